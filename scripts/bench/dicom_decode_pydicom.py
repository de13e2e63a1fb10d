"""pydicom + numpy counterpart of dicom_decode_bench.cpp: decode + preprocess
the same files on one core and print samples/s per file as JSON.

Per sample, as a typical PyTorch Dataset does it: pydicom.dcmread ->
pixel_array (pylibjpeg / pylibjpeg-openjpeg / pydicom's RLE decoder) ->
apply_modality_lut -> numpy window + normalize -> torch bilinear antialiased
resize to 256x256 (the same op medtrain uses).

Usage: dicom_decode_pydicom.py DIR FILE[,FILE...] [--repetitions N] [--min-time S]
Prints {"file": [samples_per_s of each repetition], ...}.
"""
import json
import os
import sys
import time

os.environ.setdefault("OMP_NUM_THREADS", "1")
import numpy as np  # noqa: E402
import pydicom  # noqa: E402
import torch  # noqa: E402
import torch.nn.functional as F  # noqa: E402
from pydicom.pixels import apply_modality_lut  # noqa: E402

torch.set_num_threads(1)
CENTER, WIDTH, SIZE = 40.0, 400.0, 256


def sample(path):
    ds = pydicom.dcmread(path)
    hu = apply_modality_lut(ds.pixel_array, ds).astype(np.float32)
    colour = int(ds.SamplesPerPixel) == 3
    frames = int(getattr(ds, "NumberOfFrames", 1) or 1)
    hu = hu.reshape((frames, int(ds.Rows), int(ds.Columns)) + ((3,) if colour else ()))[0]  # first frame
    if colour:
        hu = hu @ np.array([0.299, 0.587, 0.114], dtype=np.float32)
    x = np.clip((hu - (CENTER - WIDTH / 2)) / WIDTH, 0, 1)
    t = torch.from_numpy(x)[None, None]
    return F.interpolate(t, size=(SIZE, SIZE), mode="bilinear", align_corners=False, antialias=True)


def rate(path, min_time):
    sample(path)  # warm up: plugin imports, caches
    n, start = 0, time.perf_counter()
    while True:
        sample(path)
        n += 1
        elapsed = time.perf_counter() - start
        if elapsed >= min_time and n >= 3:
            return n / elapsed


def main():
    folder, files = sys.argv[1], sys.argv[2].split(",")
    reps = int(sys.argv[sys.argv.index("--repetitions") + 1]) if "--repetitions" in sys.argv else 5
    min_time = float(sys.argv[sys.argv.index("--min-time") + 1]) if "--min-time" in sys.argv else 0.5
    print(json.dumps({f: [rate(os.path.join(folder, f), min_time) for _ in range(reps)] for f in files}))


if __name__ == "__main__":
    main()
