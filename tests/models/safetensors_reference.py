"""Independent reference for the safetensors tests: the pip `safetensors` package
(Hugging Face's Rust implementation) reads the files our writer produced, and
writes files for our reader.

usage:
  safetensors_reference.py check FILE EXPECTED_JSON
      load FILE with safetensors.torch.load_file / safe_open and compare every
      tensor (dtype, shape, raw little-endian bytes) and the metadata with
      EXPECTED_JSON; exit 0 when equal, 1 (with the differences) otherwise.
  safetensors_reference.py write FILE EXPECTED_JSON
      write tensors of every dtype with safetensors.torch.save_file, and their
      expected dtype, shape and raw bytes to EXPECTED_JSON.

EXPECTED_JSON: {"metadata": {str: str},
                "tensors": [{"name", "dtype", "shape", "hex"}, ...]}
"""
import json
import sys

import torch
from safetensors import safe_open
from safetensors.torch import load_file, save_file

DTYPES = {
    "F64": torch.float64, "F32": torch.float32, "F16": torch.float16,
    "BF16": torch.bfloat16, "I64": torch.int64, "I32": torch.int32,
    "I16": torch.int16, "I8": torch.int8, "U8": torch.uint8, "BOOL": torch.bool,
}
NAMES = {v: k for k, v in DTYPES.items()}


def raw_hex(t):
    # reshape(-1) first: view(dtype) refuses 0-d tensors of wider types.
    return t.contiguous().reshape(-1).view(torch.uint8).numpy().tobytes().hex()


def check(path, expected_path):
    with open(expected_path, encoding="utf-8") as f:
        expected = json.load(f)
    tensors = load_file(path)
    with safe_open(path, framework="pt") as f:
        metadata = f.metadata() or {}
    errors = []
    if metadata != expected["metadata"]:
        errors.append(f"metadata {metadata!r} != expected {expected['metadata']!r}")
    want_names = [t["name"] for t in expected["tensors"]]
    if sorted(tensors) != sorted(want_names):
        errors.append(f"names {sorted(tensors)} != expected {sorted(want_names)}")
    for want in expected["tensors"]:
        got = tensors.get(want["name"])
        if got is None:
            continue
        name = want["name"]
        if got.dtype != DTYPES[want["dtype"]]:
            errors.append(f"{name}: dtype {got.dtype} != {want['dtype']}")
        if list(got.shape) != want["shape"]:
            errors.append(f"{name}: shape {list(got.shape)} != {want['shape']}")
        if raw_hex(got) != want["hex"]:
            errors.append(f"{name}: bytes {raw_hex(got)} != {want['hex']}")
    for e in errors:
        print(e)
    return 1 if errors else 0


def reference_tensors():
    g = torch.Generator().manual_seed(20240607)
    f32 = torch.randn(3, 5, generator=g)
    f32[0, 0], f32[0, 1], f32[0, 2], f32[0, 3] = float("nan"), float("inf"), -float("inf"), -0.0
    return {
        "f64": torch.randn(4, 3, generator=g, dtype=torch.float64),
        "f32": f32,
        "f16": torch.randn(7, generator=g).to(torch.float16),
        "bf16": torch.randn(2, 3, 3, generator=g).to(torch.bfloat16),
        "i64": torch.tensor([-(2**63), 2**63 - 1, 0, -1, 123456789012345]),
        "i32": torch.randint(-(2**31), 2**31 - 1, (5,), generator=g, dtype=torch.int32),
        "i16": torch.randint(-(2**15), 2**15 - 1, (3, 1), generator=g, dtype=torch.int16),
        "i8": torch.randint(-128, 127, (9,), generator=g, dtype=torch.int8),
        "u8": torch.randint(0, 255, (2, 2, 2), generator=g, dtype=torch.uint8),
        "mask": torch.rand(11, generator=g) > 0.5,
        "scalar": torch.tensor(3.25, dtype=torch.float32),
        "empty": torch.zeros(0, 4, dtype=torch.float32),
        "layer.0.weight": torch.randn(2, 2, generator=g).t().contiguous(),
    }


def write(path, expected_path):
    tensors = reference_tensors()
    metadata = {"format": "pt", "note": "written by safetensors.torch \u2713"}
    save_file(tensors, path, metadata=metadata)
    expected = {
        "metadata": metadata,
        "tensors": [
            {"name": k, "dtype": NAMES[v.dtype], "shape": list(v.shape), "hex": raw_hex(v)}
            for k, v in tensors.items()
        ],
    }
    with open(expected_path, "w", encoding="utf-8") as f:
        json.dump(expected, f)
    return 0


if __name__ == "__main__":
    if len(sys.argv) != 4 or sys.argv[1] not in ("check", "write"):
        print(__doc__)
        sys.exit(2)
    command = check if sys.argv[1] == "check" else write
    sys.exit(command(sys.argv[2], sys.argv[3]))
