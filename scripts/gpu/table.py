#!/usr/bin/env python3
"""Markdown table of the kernel benchmarks (Google Benchmark JSON files).

For each benchmark run: median time, coefficient of variation, GB/s and its
share of the device's copy bandwidth (the counters GB/s and of_copy that
scripts/bench/kernel_bench_util.h reports; each binary measures the copy
ceiling itself, as BM_CopyCeiling does), the speedup
of each *_Fused run over its unfused partner (*_Aten, *_Unfused, *_TorchOptim
with the same arguments), peak memory where measured, and PyTorch's own AdamW
variants (scripts/bench/kernel_adamw_pytorch.py) against FusedAdamW. Runs that
failed (validation against the reference, or no device) are listed with their
message instead of numbers.
"""
import argparse
import json
import sys

BASELINES = ("_Aten", "_Unfused", "_TorchOptim")


def load(paths):
    runs, context = {}, None
    for path in paths:
        with open(path) as f:
            data = json.load(f)
        context = context or data.get("context", {})
        for b in data.get("benchmarks", []):
            if b.get("run_type") == "aggregate":
                runs.setdefault(b["run_name"], {})[b["aggregate_name"]] = b
            else:  # a file written without aggregates: treat each run as its median
                runs.setdefault(b["run_name"], {}).setdefault("median", b)
    return runs, context


def to_us(b):
    scale = {"ns": 1e-3, "us": 1.0, "ms": 1e3, "s": 1e6}[b.get("time_unit", "ns")]
    return b["real_time"] * scale


def partner(name):
    for base in BASELINES:
        candidate = name.replace("_Fused", base)
        if candidate != name:
            yield candidate


def main():
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("files", nargs="+")
    ap.add_argument("--pytorch", help="JSON lines from kernel_adamw_pytorch.py")
    ap.add_argument("--merge-to", help="write all runs into one JSON file")
    args = ap.parse_args()
    runs, context = load(args.files)
    if args.merge_to:
        with open(args.merge_to, "w") as f:
            json.dump({"context": context, "runs": runs}, f, indent=1)
    medians = {name: aggs["median"] for name, aggs in runs.items() if "median" in aggs}
    failed = {name: b for name, b in medians.items() if b.get("error_occurred")}
    medians = {name: b for name, b in medians.items() if name not in failed}
    ceiling = max((b.get("GB/s", 0) for n, b in medians.items() if n.startswith("BM_CopyCeiling")), default=0)
    print(f"\nhost: {context.get('host_name', '?')}, {context.get('num_cpus', '?')} CPUs; "
          f"copy ceiling {ceiling:.0f} GB/s\n")
    print("| benchmark | what | median us | cv % | GB/s | % of copy | speedup vs unfused | peak MiB |")
    print("|---|---|---:|---:|---:|---:|---:|---:|")
    for name in sorted(medians):
        b = medians[name]
        us = to_us(b)
        cv = runs[name].get("cv")
        cv_txt = f"{100 * cv['real_time']:.1f}" if cv and "real_time" in cv else ""
        gbps = b.get("GB/s", 0)
        of_copy = b.get("of_copy", 0)
        pct = f"{100 * of_copy:.0f}" if of_copy and not name.startswith("BM_CopyCeiling") else ""
        speedup = ""
        for other in partner(name):
            if other in medians and us > 0:
                speedup = f"{to_us(medians[other]) / us:.2f}x"
        peak = b.get("peak_bytes")
        peak_txt = f"{peak / 2**20:.0f}" if peak else ""
        label = b.get("label", "").replace("|", "/")
        print(f"| {name.replace('/manual_time', '')} | {label} | {us:.1f} | {cv_txt} | {gbps:.0f} | {pct} | "
              f"{speedup} | {peak_txt} |")
    for name in sorted(failed):
        message = failed[name].get("error_message", "").replace("|", "/")
        status = "not run" if message.startswith("skipped") else "FAILED"
        print(f"| {name.replace('/manual_time', '')} | {status}: {message} | | | | | | |")
    if args.pytorch:
        fused = medians.get("BM_AdamW_Fused/manual_time")
        print("\n| PyTorch AdamW (ResNet-50 shapes) | median us | kernels::FusedAdamW speedup |")
        print("|---|---:|---:|")
        with open(args.pytorch) as f:
            for line in f:
                try:
                    r = json.loads(line)
                except json.JSONDecodeError:
                    continue
                if "us_per_step" not in r:
                    print(f"| {r} | | |")
                    continue
                ratio = f"{r['us_per_step'] / to_us(fused):.2f}x" if fused else ""
                print(f"| {r['name']} | {r['us_per_step']:.1f} | {ratio} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
