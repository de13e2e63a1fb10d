"""Independent reference for tests/trainer/engine/optimizer_state_test.cpp.

    adamw_reference.py DIR

DIR/case.json: {"lr", "betas", "eps", "weight_decay", "steps",
"params": {name: {"shape", "value": [...], "decay": bool}},
"grads": [{name: [...]}, ...] (one object per step)}. Runs torch.optim.AdamW
(foreach=False, fused=False) with two parameter groups, the decayed ones with
weight_decay and the others with 0 (transformers' recipe), and prints one
JSON object {name: [values after the last step]} (float32 values as doubles)."""
import json
import sys
from pathlib import Path

import torch


def main():
    case = json.loads((Path(sys.argv[1]) / "case.json").read_text())
    params = {}
    for name, p in case["params"].items():
        params[name] = torch.tensor(p["value"], dtype=torch.float32).reshape(p["shape"]).requires_grad_()
    decay = [params[n] for n, p in case["params"].items() if p["decay"]]
    no_decay = [params[n] for n, p in case["params"].items() if not p["decay"]]
    opt = torch.optim.AdamW([{"params": decay, "weight_decay": case["weight_decay"]},
                             {"params": no_decay, "weight_decay": 0.0}],
                            lr=case["lr"], betas=tuple(case["betas"]), eps=case["eps"],
                            foreach=False, fused=False)
    for grads in case["grads"]:
        for name, g in grads.items():
            params[name].grad = torch.tensor(g, dtype=torch.float32).reshape(params[name].shape)
        opt.step()
    print(json.dumps({n: p.detach().reshape(-1).tolist() for n, p in params.items()}))


if __name__ == "__main__":
    main()
