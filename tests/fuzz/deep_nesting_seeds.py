"""Writes the DICOM fuzzer's deep-nesting seeds (Note [Nesting before parsing] in
data/dicom_depth_check.h): files at, just past and far past the nesting limit,
cut short and deflated, each under libFuzzer's -max_len (64 KiB).
    python tests/fuzz/deep_nesting_seeds.py SEED_DIR"""
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "data/deid"))
from deid_reference import deep_nesting_bytes  # noqa: E402

out = Path(sys.argv[1])
out.mkdir(parents=True, exist_ok=True)
seeds = {
    "nesting_64.dcm": deep_nesting_bytes(64),
    "nesting_65.dcm": deep_nesting_bytes(65),
    "nesting_1500_cut.dcm": deep_nesting_bytes(1500, close=False),
    "nesting_100000_deflated.dcm": deep_nesting_bytes(100000, deflated=True),
}
for name, data in seeds.items():
    assert len(data) <= 65536, (name, len(data))
    (out / name).write_bytes(data)
