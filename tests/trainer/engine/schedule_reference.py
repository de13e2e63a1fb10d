"""Independent reference for tests/trainer/engine/lr_schedule_test.cpp.

    schedule_reference.py BASE_LR WARMUP:TOTAL [WARMUP:TOTAL ...]

prints one JSON object {"WARMUP:TOTAL": [lr, ...]}: the learning rate that
transformers.get_linear_schedule_with_warmup gives the optimizer step with
0-based index k (read from the param group before step k, as a training loop
sees it) for k = 0 .. TOTAL + 2."""
import json
import sys

import torch
from transformers import get_linear_schedule_with_warmup


def main():
    base = float(sys.argv[1])
    out = {}
    for pair in sys.argv[2:]:
        warmup, total = (int(x) for x in pair.split(":"))
        param = torch.zeros(1, requires_grad=True)
        opt = torch.optim.SGD([param], lr=base)
        sched = get_linear_schedule_with_warmup(opt, warmup, total)
        lrs = []
        for _ in range(total + 3):
            lrs.append(opt.param_groups[0]["lr"])
            opt.step()
            sched.step()
        out[pair] = lrs
    print(json.dumps(out))


if __name__ == "__main__":
    main()
