"""Writes the DICOM fuzzer's deep-nesting seeds (Note [Nesting before parsing] in
data/dicom/dicom_depth_check.h): files at, just past and far past the nesting limit,
cut short and deflated, each under libFuzzer's -max_len (64 KiB).
    python tests/fuzz/deep_nesting_seeds.py SEED_DIR"""
import struct
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
# Note [Reading as DCMTK reads]: an unknown upper-case VR of undefined length is
# a sequence in implicit VR to DCMTK; the scan once skipped it (a CI fuzzer find).
future_vr = struct.pack("<HH2sHI", 0x0011, 0x1010, b"ZZ", 0, 0xFFFFFFFF) + struct.pack("<HHI", 0xFFFE, 0xE000, 0xFFFFFFFF)
implicit_level = struct.pack("<HHI", 0x0040, 0xA730, 0xFFFFFFFF) + struct.pack("<HHI", 0xFFFE, 0xE000, 0xFFFFFFFF)
seeds["future_vr_1500_cut.dcm"] = deep_nesting_bytes(0) + future_vr + implicit_level * 1500
for name, data in seeds.items():
    assert len(data) <= 65536, (name, len(data))
    (out / name).write_bytes(data)
