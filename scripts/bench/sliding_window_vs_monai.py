"""Whole-volume segmentation time: `medtrain infer` (sliding window, issue 16)
vs MONAI's sliding_window_inference on the same series, model and settings,
on the CPU, median of REPS alternating runs each, and the ratio.

  flock /tmp/medtrain-build.lock .venv/bin/python scripts/bench/sliding_window_vs_monai.py \
      [--bin build/medtrain] [--reps 3] [--slices 32] [--size 96] [--roi 32] [--threads N]

The series is `medtrain demo-data --volumes` (SLICES x SIZE x SIZE CT slices);
the bundle a 3D BasicUNet (the zoo's unet3d, random weights) whose training
spacing is the series' own, so neither side resamples: the time is reading
the series, windowing, the sliding window (ROI^3, overlap 0.25, constant
blending, one window per forward) and the argmax mask written as .npy.
Both sides run end to end: medtrain as the whole command (process start and
bundle verification included), MONAI from pydicom reading to np.save in this
process (imports excluded). The masks are compared first.
"""
import argparse
import hashlib
import os
import statistics
import subprocess
import tempfile
import time
from pathlib import Path

import numpy as np
import pydicom
import torch
import yaml
from monai.inferers import sliding_window_inference
from monai.networks.nets import BasicUNet
from safetensors.torch import save_file

WINDOW, MEAN, STD = (40.0, 400.0), 0.0, 1.0


def bundle(folder, roi, spacing):
    folder.mkdir()
    torch.manual_seed(0)
    net = BasicUNet(spatial_dims=3, in_channels=1, out_channels=2).eval()
    save_file({k: v.contiguous() for k, v in net.state_dict().items()}, str(folder / "model.safetensors"))
    card = {"format": "medtrain-model/1", "architecture": "unet3d", "task": "segmentation", "num_classes": 2,
            "in_channels": 1, "labels": ["background", "lesion"],
            "preprocessing": {"window_center": WINDOW[0], "window_width": WINDOW[1], "window_from_file": False,
                              "image_size": roi, "depth": roi, "mean": MEAN, "std": STD, "colour": "luma",
                              "slice_spacing": spacing[0], "pixel_spacing": spacing[1], "roi": [roi] * 3},
            "training": {"step": 0, "epoch": 0, "config_sha256": "0" * 64, "checkpoint": "bench",
                         "torch_version": str(torch.__version__), "medtrain_version": "bench"},
            "metrics": {},
            "files": {"model.safetensors": hashlib.sha256((folder / "model.safetensors").read_bytes()).hexdigest()}}
    (folder / "model.yaml").write_text(yaml.safe_dump(card))
    return net


def monai_mask(series, net, roi, out):
    slices = [pydicom.dcmread(p) for p in sorted(series.iterdir())]
    normal = np.cross(*np.array(slices[0].ImageOrientationPatient, float).reshape(2, 3))
    slices.sort(key=lambda s: float(np.dot(normal, np.array(s.ImagePositionPatient, float))))
    hu = np.stack([s.pixel_array * float(s.RescaleSlope) + float(s.RescaleIntercept) for s in slices])
    x = torch.from_numpy(hu.astype(np.float32))[None, None]
    lo, inv_w = np.float32(WINDOW[0] - WINDOW[1] / 2), np.float32(1 / WINDOW[1])
    x = ((x - lo) * inv_w).clamp(0, 1) * np.float32(1 / STD) + np.float32(-MEAN / STD)
    with torch.no_grad():
        y = sliding_window_inference(x, [roi] * 3, 1, net, overlap=0.25, mode="constant", cval=0.0)
    mask = torch.softmax(y, 1)[0].argmax(0).numpy().astype(np.uint8)
    np.save(out, mask)
    return mask


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--bin", default="build/medtrain")
    ap.add_argument("--reps", type=int, default=3)
    ap.add_argument("--slices", type=int, default=32)
    ap.add_argument("--size", type=int, default=96)
    ap.add_argument("--roi", type=int, default=32)
    ap.add_argument("--threads", type=int, default=os.cpu_count())
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    env = dict(os.environ, OMP_NUM_THREADS=str(a.threads))
    tmp = Path(tempfile.mkdtemp(prefix="swbench"))
    subprocess.run([a.bin, "demo-data", "--out", tmp / "demo", "--count", str(a.slices), "--patients", "1",
                    "--val-fraction", "0", "--size", str(a.size), "--volumes", "--seed", "1"],
                   check=True, capture_output=True)
    series = tmp / "demo" / "images" / "P0000"
    first = pydicom.dcmread(next(series.iterdir()))
    z = sorted(float(pydicom.dcmread(p).ImagePositionPatient[2]) for p in series.iterdir())
    net = bundle(tmp / "bundle", a.roi, (z[1] - z[0], float(first.PixelSpacing[0])))

    def medtrain(k):
        t = time.perf_counter()
        subprocess.run([a.bin, "infer", "--model", tmp / "bundle", "--in", series, "--out", tmp / f"m{k}.csv",
                        "--device", "cpu", "--progress", "none"], check=True, capture_output=True, env=env)
        return time.perf_counter() - t

    def monai(k):
        t = time.perf_counter()
        monai_mask(series, net, a.roi, tmp / f"monai{k}.npy")
        return time.perf_counter() - t

    ours, theirs = [], []
    for k in range(a.reps):
        ours.append(medtrain(k))
        theirs.append(monai(k))
    differ = int((np.load(tmp / "m0_masks" / "000000.npy") != np.load(tmp / "monai0.npy")).sum())
    m, t = statistics.median(ours), statistics.median(theirs)
    print(f"volume {a.slices}x{a.size}x{a.size}, roi {a.roi}^3, {a.threads} threads, median of {a.reps}; "
          f"masks differ in {differ} voxels")
    print(f"medtrain infer {m:.2f} s  MONAI {t:.2f} s  medtrain/MONAI speed {t / m:.2f}x")
    print(f"runs: medtrain {[round(x, 2) for x in ours]} MONAI {[round(x, 2) for x in theirs]}")


if __name__ == "__main__":
    main()
