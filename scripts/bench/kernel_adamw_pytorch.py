"""PyTorch's AdamW on ResNet-50's parameter shapes: the reference numbers for
scripts/bench/kernel_adamw_bench.cpp (same 161 fp32 tensors, same options).

Times fused=True (PyTorch's multi-tensor CUDA kernel), foreach=True and the
per-tensor loop with CUDA events, median of --reps steps after --warmup, and
prints one JSON line per variant (us per step, bytes/s counting 7 fp32 values
per element). Needs a CUDA device; without one it says so and exits 0.
"""
import argparse
import json
import statistics

import torch
import torchvision


def time_steps(opt, reps, warmup):
    for _ in range(warmup):
        opt.step()
    torch.cuda.synchronize()
    times = []
    for _ in range(reps):
        start, stop = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
        start.record()
        opt.step()
        stop.record()
        stop.synchronize()
        times.append(start.elapsed_time(stop) * 1e3)  # us
    return statistics.median(times)


def main():
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--reps", type=int, default=50)
    ap.add_argument("--warmup", type=int, default=5)
    args = ap.parse_args()
    if not torch.cuda.is_available():
        print(json.dumps({"skipped": "no CUDA device"}))
        return
    shapes = [p.shape for p in torchvision.models.resnet50().parameters()]
    numel = sum(s.numel() for s in shapes)
    for variant in ("fused", "foreach", "for_loop"):
        params = [torch.randn(s, device="cuda", requires_grad=True) for s in shapes]
        for p in params:
            p.grad = torch.randn_like(p) * 1e-2
        kwargs = {"fused": variant == "fused", "foreach": variant == "foreach"}
        opt = torch.optim.AdamW(params, lr=1e-3, weight_decay=0.05, **kwargs)
        us = time_steps(opt, args.reps, args.warmup)
        print(json.dumps({"name": f"pytorch_adamw_{variant}", "us_per_step": us, "tensors": len(shapes),
                          "numel": numel, "bytes_per_second": 28 * numel / (us * 1e-6),
                          "torch": torch.__version__, "device": torch.cuda.get_device_name()}))


if __name__ == "__main__":
    main()
