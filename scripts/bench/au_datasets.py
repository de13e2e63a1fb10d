"""Datasets shaped like MLPerf Storage's workloads, for au_mlperf.sh.

resnet50-like: COUNT files of 114,660 bytes (the mean record of
mlcommons/storage configs/dlio/workload/resnet50_h100.yaml) spread over 20
class folders, as an ImageNet-style tree is. unet3d-like: COUNT files of
146,600,628 bytes (unet3d_h100.yaml), one sample per file (npz-like).
Random bytes: nothing compresses or dedups them. Existing files of the right
size are kept, so a second run does not rewrite them.

usage: au_datasets.py resnet50|unet3d OUT_DIR COUNT
"""
import os
import sys
from pathlib import Path

SIZES = {"resnet50": 114_660, "unet3d": 146_600_628}
CHUNK = 8 << 20


def write_random(path, size):
    if path.exists() and path.stat().st_size == size:
        return
    tmp = path.with_suffix(".tmp")
    with open(tmp, "wb") as f:
        left = size
        while left:
            n = min(CHUNK, left)
            f.write(os.urandom(n))
            left -= n
    tmp.rename(path)


def main():
    if len(sys.argv) != 4 or sys.argv[1] not in SIZES:
        sys.exit(__doc__)
    kind, out, count = sys.argv[1], Path(sys.argv[2]), int(sys.argv[3])
    for i in range(count):
        folder = out / f"class{i % 20:02d}" if kind == "resnet50" else out
        folder.mkdir(parents=True, exist_ok=True)
        write_random(folder / f"{kind}_{i:06d}.bin", SIZES[kind])
    print(f"{kind}: {count} files of {SIZES[kind]} bytes in {out}")


if __name__ == "__main__":
    main()
