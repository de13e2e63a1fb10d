"""data.colour rgb end to end: a few training steps of resnet18 (in_channels 3)
on colour DICOMs (RGB planar 0, YBR_FULL planar 1, YBR_FULL_422, PALETTE COLOR)
and a grey one, export, and `medtrain infer` on the bundle. References:
pydicom decodes every file (YBR -> RGB, palette lookup), the inputs are windowed
and normalised in NumPy and resized with torch's antialiased bilinear
interpolate; torchvision's resnet18, whose 3-channel conv1 takes the bundle's
weights unchanged, gives the probabilities infer wrote."""
import csv
import sys

import numpy as np
import pydicom
import torch
import yaml
from safetensors.numpy import load_file

from conftest import SOURCE, assert_user_error, run

sys.path.insert(0, str(SOURCE / "tests" / "data"))
import dicom_corpus  # noqa: E402  (writes DICOM files with pydicom)
from pydicom_reference import reference  # noqa: E402

SIZE = 32


def write_images(root):
    """Returns manifest rows: red-ish images are label 1, blue-ish label 0."""
    rng = np.random.default_rng(3)
    rows = []
    (root / "images").mkdir()
    kinds = ["rgb", "ybr_planar1", "ybr_422", "palette", "grey"]
    for i in range(20):
        kind, label = kinds[i % len(kinds)], i % 2
        rgb = rng.integers(0, 60, (1, dicom_corpus.ROWS, dicom_corpus.COLS, 3)).astype(np.uint8)
        rgb[..., 0 if label else 2] += 180
        name = f"images/img{i:02d}_{kind}.dcm"
        path = root / name
        if kind == "rgb":
            dicom_corpus.write_native(path, rgb, "RGB", 8, planar=0)
        elif kind == "ybr_planar1":  # stored values as YCbCr, pydicom converts them
            dicom_corpus.write_native(path, np.ascontiguousarray(rgb.transpose(0, 3, 1, 2)), "YBR_FULL", 8, planar=1)
        elif kind == "ybr_422":
            pairs = rgb.reshape(1, dicom_corpus.ROWS, dicom_corpus.COLS // 2, 2, 3)
            packed = np.concatenate([pairs[..., 0], pairs[..., 0, 1:]], axis=-1)
            dicom_corpus.write_native(path, np.ascontiguousarray(packed), "YBR_FULL_422", 8)
        elif kind == "palette":
            dicom_corpus.write_palette(path, rgb[..., 0], 8)
        else:
            dicom_corpus.write_native(path, rgb[..., 0], "MONOCHROME2", 8)
        rows.append({"path": name, "label": label, "patient_id": f"P{i}", "split": "train" if i < 14 else "val"})
    with open(root / "manifest.csv", "w", newline="") as f:
        w = csv.DictWriter(f, fieldnames=list(rows[0]))
        w.writeheader()
        w.writerows(rows)
    return rows


def expected_input(path):
    """[3, SIZE, SIZE]: pydicom's RGB (grey replicated), window 127.5/255, mean 0.5, std 0.25."""
    values = reference(path)[0].astype(np.float64)
    if values.ndim == 2:
        values = np.repeat(values[..., None], 3, axis=-1)
    x = (np.clip(values / 255.0, 0, 1) - 0.5) / 0.25
    t = torch.from_numpy(x.transpose(2, 0, 1)).float()[None]
    return torch.nn.functional.interpolate(t, size=(SIZE, SIZE), mode="bilinear", align_corners=False,
                                           antialias=True)[0].numpy()


def train_args(data, runs, *overrides):
    return ["train", "-c", SOURCE / "configs/recipes/ct_resnet50.yaml", "--set", f"data.root={data}",
            "--set", f"data.manifest={data}/manifest.csv", "--set", f"run.output_dir={runs}",
            "--set", "model.name=resnet18", "--set", "model.channels_last=false", "--set", f"data.image_size={SIZE}",
            "--set", "data.window_center=127.5", "--set", "data.window_width=255", "--set", "data.mean=0.5",
            "--set", "data.std=0.25", "--set", "data.label_names=[blue,red]", "--set", "optim.batch_size=4",
            "--set", "run.max_steps=3", "--set", "run.eval_every_steps=3", "--set", "checkpoint.every_steps=3",
            "--set", "data.workers=1", "--set", "run.device=cpu", "--set", "log.progress=none", *overrides]


def test_rgb_training_and_infer_feed_three_channels(tmp_path):
    import torchvision
    data = tmp_path / "data"
    data.mkdir()
    rows = write_images(data)
    runs = tmp_path / "runs"
    r = run(*train_args(data, runs, "--set", "data.colour=rgb", "--set", "model.in_channels=3"), timeout=600)
    assert r.returncode == 0, r.stderr
    bundle = tmp_path / "bundle"
    r = run("export", "--checkpoint", runs / "ct_resnet50/ckpt/latest", "--format", "safetensors", "--out", bundle)
    assert r.returncode == 0, r.stderr
    card = yaml.safe_load((bundle / "model.yaml").read_text())
    assert card["preprocessing"]["colour"] == "rgb" and card["in_channels"] == 3
    dump = tmp_path / "inputs.npy"
    r = run("infer", "--model", bundle, "--in", data / "images", "--out", tmp_path / "pred.csv", "--dump-inputs", dump,
            "--device", "cpu")
    assert r.returncode == 0, r.stderr
    with open(tmp_path / "pred.csv", newline="") as f:
        pred = list(csv.DictReader(f))
    inputs = np.load(dump)
    assert inputs.shape == (len(rows), 3, SIZE, SIZE)
    for k, p in enumerate(pred):
        np.testing.assert_allclose(inputs[k], expected_input(p["path"]), atol=2e-4, err_msg=p["path"])
    net = torchvision.models.resnet18(num_classes=2)  # conv1 stays the 3-channel ImageNet layout
    net.load_state_dict({k: torch.from_numpy(v) for k, v in load_file(str(bundle / "model.safetensors")).items()})
    with torch.no_grad():
        probs = torch.softmax(net.eval()(torch.from_numpy(inputs)), 1).numpy()
    got = np.array([[float(p["prob_blue"]), float(p["prob_red"])] for p in pred])
    np.testing.assert_allclose(got, probs, atol=1e-5)


def test_rgb_needs_three_input_channels(tmp_path):
    data = tmp_path / "data"
    data.mkdir()
    write_images(data)
    r = run(*train_args(data, tmp_path / "runs", "--set", "data.colour=rgb"))
    assert_user_error(r, "data.colour rgb", "model.in_channels")


def test_palette_without_table_is_one_line(tmp_path):
    path = tmp_path / "nolut.dcm"
    dicom_corpus.write_palette(path, np.zeros((1, dicom_corpus.ROWS, dicom_corpus.COLS), np.uint8), 16)
    ds = pydicom.dcmread(path)
    del ds.BluePaletteColorLookupTableData
    ds.save_as(path)
    r = run("inspect", path)
    assert_user_error(r, str(path), "Blue Palette Color Lookup Table Data (0028,1203)")
