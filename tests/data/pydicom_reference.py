"""Independent reference for data/dicom_image: decode DICOM files with pydicom.

Usage: pydicom_reference.py DIR

DIR holds expected.csv (file,transfer_syntax_uid), the DICOM files it names, and
for each FILE the C++ decoder's output FILE.f32 (raw little-endian float32,
frames*rows*cols) with FILE.f32.shape ("frames rows cols"). For each file we check
the stored transfer syntax, decode with pydicom (RLE natively, JPEG-LS through
pylibjpeg), apply the modality LUT with pydicom, reflect MONOCHROME1 inside the
modality range of the stored bits, and require exact equality in float32.
Exits 1 with one line per mismatch.
"""
import csv
import pathlib
import sys

import numpy as np
import pydicom
from pydicom.pixels import apply_modality_lut


def modality_range(ds):
    bits = int(ds.BitsStored)
    if int(ds.PixelRepresentation) == 1:
        lo, hi = -(2 ** (bits - 1)), 2 ** (bits - 1) - 1
    else:
        lo, hi = 0, 2**bits - 1
    slope = float(getattr(ds, "RescaleSlope", 1.0))
    intercept = float(getattr(ds, "RescaleIntercept", 0.0))
    return lo * slope + intercept, hi * slope + intercept


def reference(ds):
    arr = ds.pixel_array
    values = np.asarray(apply_modality_lut(arr, ds), dtype=np.float64)
    if ds.PhotometricInterpretation == "MONOCHROME1":
        lo, hi = modality_range(ds)
        values = (lo + hi) - values
    frames = int(getattr(ds, "NumberOfFrames", 1) or 1)
    return values.reshape(frames, int(ds.Rows), int(ds.Columns)).astype(np.float32)


def check(folder, name, want_uid):
    path = folder / name
    ds = pydicom.dcmread(path)
    got_uid = str(ds.file_meta.TransferSyntaxUID)
    if got_uid != want_uid:
        return f"{name}: transfer syntax {got_uid}, expected {want_uid}"
    ref = reference(ds)
    shape = tuple(int(x) for x in (folder / (name + ".f32.shape")).read_text().split())
    if shape != ref.shape:
        return f"{name}: C++ shape {shape}, pydicom shape {ref.shape}"
    ours = np.fromfile(folder / (name + ".f32"), dtype="<f4").reshape(shape)
    if not np.array_equal(ours, ref):
        bad = np.argwhere(ours != ref)
        i = tuple(bad[0])
        return (f"{name}: {len(bad)} of {ref.size} values differ, first at {i}: "
                f"C++ {ours[i]} vs pydicom {ref[i]}")
    return None


def main():
    folder = pathlib.Path(sys.argv[1])
    with open(folder / "expected.csv", newline="") as f:
        rows = list(csv.DictReader(f))
    errors = []
    for row in rows:
        try:
            err = check(folder, row["file"], row["transfer_syntax_uid"])
        except Exception as e:  # a decoder plugin missing, an unreadable file
            err = f"{row['file']}: pydicom failed: {type(e).__name__}: {e}"
        if err:
            errors.append(err)
    for e in errors:
        print("MISMATCH", e)
    if errors:
        sys.exit(1)
    print(f"checked {len(rows)} files: all equal to pydicom")


if __name__ == "__main__":
    main()
