"""`medtrain infer` on whole series with a 3D segmentation bundle trained at a
voxel size (docs/export.md, "Whole volumes"), end to end against an
independent reference: the series read with pydicom, resampled with torch,
windowed, run through MONAI's BasicUNet by monai's sliding_window_inference
(the bundle's weights, ROI and padding value), probabilities back to the
series grid, argmax. Then the DICOM SEG and NIfTI outputs, and every bad input
of issue 16 through the CLI: one line naming what and where, exit 2.

The bundles are written here (model.yaml + model.safetensors with random
BasicUNet weights), not trained: the test is about inference.
"""
import hashlib
import json
import shutil

import numpy as np
import pydicom
import pytest
import torch
import torch.nn.functional as F
import yaml
from safetensors.torch import save_file

from conftest import assert_user_error, run

SPACING = (3.0, 8.0)  # slice, pixel mm: the series (2.5, 10.9375 mm) is resampled to 10 x 44 x 44
ROI = [32, 32, 32]    # deeper than the resampled series: padded in depth
WINDOW = (-600.0, 1500.0)
MEAN, STD = 0.2, 0.5


def net(dims):
    from monai.networks.nets import BasicUNet
    torch.manual_seed(16)
    return BasicUNet(spatial_dims=dims, in_channels=1, out_channels=2).eval()


def write_bundle(folder, dims, spacing=True):
    folder.mkdir()
    model = net(dims)
    save_file({k: v.contiguous() for k, v in model.state_dict().items()}, str(folder / "model.safetensors"))
    pre = {"window_center": WINDOW[0], "window_width": WINDOW[1], "window_from_file": False,
           "image_size": 48 if dims == 3 else 32, "depth": 32 if dims == 3 else 0, "mean": MEAN, "std": STD,
           "colour": "luma"}
    if dims == 3:
        pre["roi"] = ROI
        if spacing:
            pre.update(slice_spacing=SPACING[0], pixel_spacing=SPACING[1])
    card = {"format": "medtrain-model/1", "architecture": "unet3d" if dims == 3 else "unet2d",
            "task": "segmentation", "num_classes": 2, "in_channels": 1, "labels": ["background", "lesion"],
            "preprocessing": pre,
            "training": {"step": 1, "epoch": 1, "config_sha256": "0" * 64, "checkpoint": "none",
                         "torch_version": str(torch.__version__), "medtrain_version": "test"},
            "metrics": {},
            "files": {"model.safetensors": hashlib.sha256((folder / "model.safetensors").read_bytes()).hexdigest()}}
    (folder / "model.yaml").write_text(yaml.safe_dump(card))
    return folder, model


@pytest.fixture(scope="module")
def series(tmp_path_factory):
    root = tmp_path_factory.mktemp("vol")
    r = run("demo-data", "--out", root / "demo", "--count", 24, "--patients", 2, "--val-fraction", 0, "--size", 32,
            "--volumes", "--seed", 4)
    assert r.returncode == 0, r.stderr
    return root / "demo" / "images"


@pytest.fixture(scope="module")
def bundle3d(tmp_path_factory):
    return write_bundle(tmp_path_factory.mktemp("b") / "bundle", 3)


def read_series(folder):
    slices = [pydicom.dcmread(p) for p in sorted(folder.iterdir())]
    normal = np.cross(*np.array(slices[0].ImageOrientationPatient, float).reshape(2, 3))
    slices.sort(key=lambda s: float(np.dot(normal, np.array(s.ImagePositionPatient, float))))
    hu = np.stack([s.pixel_array * float(s.RescaleSlope) + float(s.RescaleIntercept) for s in slices])
    z = [float(np.dot(normal, np.array(s.ImagePositionPatient, float))) for s in slices]
    spacing = (z[1] - z[0], *map(float, slices[0].PixelSpacing))
    return torch.from_numpy(hu.astype(np.float32)), spacing, slices


def reference(folder, model, overlap, mode, sw_batch):
    from monai.inferers import sliding_window_inference
    hu, spacing, _ = read_series(folder)
    target = (SPACING[0], SPACING[1], SPACING[1])
    grid = [max(1, round(n * s / t)) for n, s, t in zip(hu.shape, spacing, target)]
    x = F.interpolate(hu[None, None], size=grid, mode="trilinear", align_corners=False)
    lo, inv_w = np.float32(WINDOW[0] - WINDOW[1] / 2), np.float32(1 / WINDOW[1])
    x = ((x - lo) * inv_w).clamp(0, 1) * np.float32(1 / STD) + np.float32(-MEAN / STD)
    with torch.no_grad():
        y = sliding_window_inference(x, ROI, sw_batch, model, overlap=overlap, mode=mode,
                                     cval=float(np.float32(-MEAN / STD)))
    p = torch.softmax(torch.as_tensor(y), 1)
    up = F.interpolate(p, size=list(hu.shape), mode="trilinear", align_corners=False)[0]
    return up.argmax(0).numpy().astype(np.uint8), up.numpy()


def infer(bundle, inputs, out, *flags):
    return run("infer", "--model", bundle, "--in", inputs, "--out", out, "--device", "cpu", *flags)


@pytest.mark.parametrize("overlap,mode,sw_batch", [(0.25, "constant", 1), (0.5, "gaussian", 3)])
def test_whole_series_masks_equal_monai_sliding_window(tmp_path, series, bundle3d, overlap, mode, sw_batch):
    bundle, model = bundle3d
    out = tmp_path / "pred.jsonl"
    r = infer(bundle, series, out, "--sw-overlap", overlap, "--sw-mode", mode, "--sw-batch", sw_batch)
    assert r.returncode == 0, r.stderr
    assert "summary: 2 predicted, 0 skipped, 0 failed" in r.stdout and "predicted 2 of 2 series" in r.stdout, r.stdout
    rows = [json.loads(line) for line in out.read_text().splitlines()]
    assert [row["path"] for row in rows] == [str(series / "P0000"), str(series / "P0001")]
    for row in rows:
        expected, _ = reference(series / row["path"].split("/")[-1], model, overlap, mode, sw_batch)
        mask = np.load(tmp_path / row["mask"])
        assert mask.shape == expected.shape == (12, 32, 32) and row["shape"] == [12, 32, 32]
        assert (mask != expected).mean() <= 1e-3, (mask != expected).sum()
        assert row["pixels"] == {"background": int((mask == 0).sum()), "lesion": int((mask == 1).sum())}


def test_seg_and_nifti_lie_on_the_series(tmp_path, series, bundle3d):
    bundle, model = bundle3d
    out = tmp_path / "pred.csv"
    r = infer(bundle, series / "P0000", out, "--mask-format", "npy,seg,nifti", "--seg-type", "fractional")
    assert r.returncode == 0, r.stderr
    masks = tmp_path / "pred_masks"
    labels = np.load(masks / "000000.npy")
    _, slices = read_series(series / "P0000")[1:]
    seg = pydicom.dcmread(masks / "000000.seg.dcm")
    assert seg.Modality == "SEG" and seg.SegmentationType == "FRACTIONAL"
    assert int(seg.NumberOfFrames) == labels.shape[0]  # one segment (lesion) x 12 slices
    refs = {i.ReferencedSOPInstanceUID for i in seg.ReferencedSeriesSequence[0].ReferencedInstanceSequence}
    assert refs == {s.SOPInstanceUID for s in slices}
    assert seg.ReferencedSeriesSequence[0].SeriesInstanceUID == slices[0].SeriesInstanceUID
    import nibabel as nib
    img = nib.load(str(masks / "000000.nii.gz"))
    assert sorted(img.shape) == sorted(labels.shape) and int(np.asarray(img.dataobj).sum()) == int(labels.sum())


def test_existing_masks_folder_is_refused_never_overwritten(tmp_path, series, bundle3d):
    (tmp_path / "pred_masks").mkdir()
    (tmp_path / "pred_masks" / "000000.npy").write_bytes(b"keep")
    r = infer(bundle3d[0], series, tmp_path / "pred.csv")
    assert_user_error(r, "pred_masks", "already exists")
    assert (tmp_path / "pred_masks" / "000000.npy").read_bytes() == b"keep"


def test_bundle_and_input_dimensions_must_agree(tmp_path, series, bundle3d):
    bundle2d, _ = write_bundle(tmp_path / "b2d", 2)
    from pydicom.data import get_testdata_file
    dose = get_testdata_file("rtdose.dcm")  # 15 frames with a frame geometry
    assert_user_error(infer(bundle2d, dose, tmp_path / "a.csv"), "rtdose.dcm", "multi-frame volume (15 frames)", "2D")
    one_file = sorted((series / "P0000").iterdir())[0]
    assert_user_error(infer(bundle3d[0], one_file, tmp_path / "b.csv"), one_file.name, "takes volumes")
    assert_user_error(infer(bundle2d, one_file, tmp_path / "c.csv", "--mask-format", "seg"), "seg", "is 2D")
    resized, _ = write_bundle(tmp_path / "b3d_resize", 3, spacing=False)
    assert_user_error(infer(resized, series, tmp_path / "d.csv", "--mask-format", "nifti"), "nifti",
                      "resized each series")


def broken_series(root, series, how):
    bad = root / how
    shutil.copytree(series / "P0000", bad)
    files = sorted(bad.iterdir(), key=lambda p: float(pydicom.dcmread(p).ImagePositionPatient[2]))
    if how == "missing_slice":
        files[5].unlink()
    elif how == "uneven_spacing":
        ds = pydicom.dcmread(files[-1])
        ds.ImagePositionPatient[2] = float(ds.ImagePositionPatient[2]) + 1.5
        ds.save_as(files[-1])
    else:  # mixed orientations
        ds = pydicom.dcmread(files[3])
        ds.ImageOrientationPatient = [1, 0, 0, 0, 0.9, 0.43588989]
        ds.save_as(files[3])
    return bad


@pytest.mark.parametrize("how,needle", [("missing_slice", "gap"), ("uneven_spacing", "gap"),
                                        ("mixed_orientations", "orientation")])
def test_bad_series_is_refused_naming_it_or_skipped(tmp_path, series, bundle3d, how, needle):
    bad = broken_series(tmp_path, series, how)
    r = infer(bundle3d[0], bad, tmp_path / "a.csv")
    assert_user_error(r, how)
    assert needle in r.stderr.lower(), r.stderr
    both = tmp_path / "both.csv"
    both.write_text(f"path\n{bad}\n{series / 'P0001'}\n")
    r = infer(bundle3d[0], both, tmp_path / "b.csv", "--on-error", "skip")
    assert r.returncode == 0, r.stderr
    assert "summary: 1 predicted, 1 skipped, 0 failed" in r.stdout and how in r.stderr


def test_volume_over_the_memory_limit_is_refused_before_inference(tmp_path, series, bundle3d):
    r = infer(bundle3d[0], series / "P0000", tmp_path / "a.csv", "--max-volume-gb", "0.001")
    assert_user_error(r, "P0000", "12x32x32 voxels needs about", "--max-volume-gb 0.001")
    assert not (tmp_path / "a_masks").exists()


def test_export_records_the_training_spacing_and_the_roi(tmp_path):
    """A run trained at a voxel size exports slice/pixel spacing and its window,
    so infer segments whole series with it."""
    from conftest import SOURCE
    data = tmp_path / "demo"
    r = run("demo-data", "--out", data, "--count", 48, "--patients", 4, "--size", 32, "--volumes", "--masks",
            "--seed", 5)
    assert r.returncode == 0, r.stderr
    runs = tmp_path / "runs"
    r = run("train", "-c", SOURCE / "configs/recipes/ct_unet3d.yaml", "--set", f"data.root={data}",
            "--set", f"data.manifest={data}/manifest.csv", "--set", f"run.output_dir={runs}",
            "--set", "run.max_steps=1", "--set", "run.eval_every_steps=1", "--set", "checkpoint.every_steps=1",
            "--set", "data.workers=1", "--set", "run.device=cpu", "--set", "log.progress=none",
            "--set", "data.patch_size=0", "--set", "data.slice_spacing=3", "--set", "data.pixel_spacing=8",
            timeout=600)
    assert r.returncode == 0, r.stderr
    bundle = tmp_path / "bundle"
    r = run("export", "--checkpoint", runs / "ct_unet3d/ckpt/latest", "--format", "safetensors", "--out", bundle)
    assert r.returncode == 0, r.stderr
    pre = yaml.safe_load((bundle / "model.yaml").read_text())["preprocessing"]
    assert (pre["slice_spacing"], pre["pixel_spacing"], pre["roi"]) == (3, 8, [16, 32, 32])
    series = sorted((data / "images").iterdir())[0]
    r = infer(bundle, series, tmp_path / "pred.csv")
    assert r.returncode == 0, r.stderr
    assert np.load(tmp_path / "pred_masks" / "000000.npy").shape == (len(list(series.iterdir())), 32, 32)


@pytest.mark.parametrize("flag,value", [("--sw-overlap", "1.0"), ("--sw-overlap", "nan"), ("--sw-mode", "cubic"),
                                        ("--sw-batch", "0"), ("--mask-format", "png"), ("--seg-type", "soft"),
                                        ("--max-volume-gb", "0")])
def test_bad_sliding_window_and_mask_flags_are_refused_before_anything_is_written(tmp_path, series, bundle3d,
                                                                                  flag, value):
    r = infer(bundle3d[0], series, tmp_path / "pred.csv", flag, value)
    assert_user_error(r, flag)
    assert not (tmp_path / "pred.csv").exists() and not (tmp_path / "pred_masks").exists()
