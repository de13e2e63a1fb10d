"""Independent reference for medtrain's DICOM decoder: decode with pydicom.

Usage: pydicom_reference.py DIR

DIR holds corpus.csv (file,transfer_syntax_uid,tolerance; see dicom_corpus.py),
the DICOM files it names, and for each FILE the C++ decoder's output FILE.f32
(raw little-endian float32) with FILE.f32.shape (its dimensions, space
separated). For each file we check the stored transfer syntax, decode with
pydicom (RLE and native natively; JPEG and JPEG-LS through pylibjpeg-libjpeg,
JPEG 2000 through pylibjpeg-openjpeg), convert YBR to RGB (pydicom's default), look PALETTE COLOR indices up
with apply_color_lut,
apply the modality LUT with pydicom, reflect MONOCHROME1 inside the modality
range of the stored bits (medtrain's documented choice), and require
|medtrain - pydicom| <= tolerance (0: exact equality in float32).
Exits 1 with one line per mismatch. reference() is also used by the inspect
CLI test.
"""
import csv
import pathlib
import sys

import numpy as np
import pydicom
from pydicom.pixels import apply_color_lut, apply_modality_lut


def modality_range(ds):
    bits = int(ds.BitsStored)
    if int(ds.PixelRepresentation) == 1:
        lo, hi = -(2 ** (bits - 1)), 2 ** (bits - 1) - 1
    else:
        lo, hi = 0, 2**bits - 1
    slope = float(getattr(ds, "RescaleSlope", 1.0))
    intercept = float(getattr(ds, "RescaleIntercept", 0.0))
    return lo * slope + intercept, hi * slope + intercept


def reference(path):
    """float32 frames x rows x cols (x 3), as medtrain documents its output."""
    ds = pydicom.dcmread(path)
    if ds.PhotometricInterpretation == "PALETTE COLOR":  # the tables' entries, no rescale
        values = np.asarray(apply_color_lut(ds.pixel_array, ds), dtype=np.float64)
    else:
        values = np.asarray(apply_modality_lut(ds.pixel_array, ds), dtype=np.float64)
    if ds.PhotometricInterpretation == "MONOCHROME1":
        lo, hi = modality_range(ds)
        values = (lo + hi) - values
    frames = int(getattr(ds, "NumberOfFrames", 1) or 1)
    shape = (frames, int(ds.Rows), int(ds.Columns))
    if int(ds.SamplesPerPixel) > 1 or ds.PhotometricInterpretation == "PALETTE COLOR":
        shape += (3,)
    return values.reshape(shape).astype(np.float32)


def compare(name, ours, ref, tolerance):
    """None when equal within tolerance, else a one-line description."""
    if ours.shape != ref.shape:
        return f"{name}: medtrain shape {ours.shape}, pydicom shape {ref.shape}"
    diff = np.abs(ours.astype(np.float64) - ref.astype(np.float64))
    if diff.max(initial=0) > tolerance:
        i = np.unravel_index(np.argmax(diff), diff.shape)
        return (f"{name}: {int((diff > tolerance).sum())} of {ref.size} values differ by more than "
                f"{tolerance}, worst at {tuple(int(k) for k in i)}: medtrain {ours[i]} vs pydicom {ref[i]}")
    return None


def check(folder, name, want_uid, tolerance):
    got_uid = str(pydicom.dcmread(folder / name, stop_before_pixels=True).file_meta.TransferSyntaxUID)
    if got_uid != want_uid:
        return f"{name}: transfer syntax {got_uid}, expected {want_uid}"
    ref = reference(folder / name)
    shape = tuple(int(x) for x in (folder / (name + ".f32.shape")).read_text().split())
    ours = np.fromfile(folder / (name + ".f32"), dtype="<f4").reshape(shape)
    return compare(name, ours, ref, tolerance)


def main():
    folder = pathlib.Path(sys.argv[1])
    with open(folder / "corpus.csv", newline="") as f:
        rows = list(csv.DictReader(f))
    errors = []
    for row in rows:
        try:
            err = check(folder, row["file"], row["transfer_syntax_uid"], float(row["tolerance"]))
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
