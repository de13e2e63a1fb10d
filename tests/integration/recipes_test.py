"""The recipes in configs/recipes run end to end for a few steps on demo data
made for them, and report the metrics of their task; the demo data they
train on is checked against pydicom (masks mark the lesion's pixels, the
multilabel column names the lungs that hold one, volumes are whole series)."""
import csv
import json
import math

import numpy as np
import pydicom
import pytest

from conftest import SOURCE, run

# recipe -> (demo-data flags, eval metrics it must report)
RECIPES = {
    "chexnet_densenet121": (["--multilabel"], ["val/loss", "val/auroc", "val/auroc_right_lung_lesion",
                                               "val/auroc_left_lung_lesion"]),
    "ct_resnet50": ([], ["val/loss", "val/accuracy", "val/auroc"]),
    "ct_unet2d": (["--masks"], ["val/loss", "val/dice", "val/dice_background", "val/dice_lesion"]),
    "ct_unet3d": (["--volumes", "--masks"], ["val/loss", "val/dice", "val/dice_lesion"]),
}


def make_demo(root, flags, count=48):
    out = root / "demo"
    r = run("demo-data", "--out", out, "--count", count, "--patients", 12, "--size", 64, "--seed", 5, *flags)
    assert r.returncode == 0, r.stderr
    return out


def rows(demo):
    with open(demo / "manifest.csv", newline="") as f:
        return list(csv.DictReader(f))


def hu(path):
    ds = pydicom.dcmread(path)
    return ds.pixel_array.astype(np.float64) * float(ds.RescaleSlope) + float(ds.RescaleIntercept)


@pytest.mark.parametrize("recipe", sorted(RECIPES))
def test_recipe_trains_a_few_steps_and_reports_its_metrics(tmp_path, recipe):
    flags, keys = RECIPES[recipe]
    demo = make_demo(tmp_path, flags, count=96 if "--volumes" in flags else 48)
    runs = tmp_path / "runs"
    r = run("train", "-c", SOURCE / "configs/recipes" / f"{recipe}.yaml", "--set", f"data.root={demo}",
            "--set", f"data.manifest={demo}/manifest.csv", "--set", f"run.output_dir={runs}",
            "--set", "run.max_steps=2", "--set", "run.eval_every_steps=2", "--set", "checkpoint.every_steps=2",
            "--set", "data.workers=1", "--set", "run.device=cpu", "--set", "log.progress=plain",
            "--set", "schedule.warmup_steps=0", timeout=900)
    assert r.returncode == 0, r.stderr
    records = [json.loads(l) for l in (runs / recipe / "metrics.jsonl").read_text().splitlines()]
    train = [x for x in records if x["kind"] == "train"]
    assert [x["step"] for x in train] == [1, 2]
    assert all(math.isfinite(x["loss"]) and x["loss"] > 0 for x in train)
    last_eval = [x for x in records if x["kind"] == "eval"][-1]
    for key in keys:
        assert key in last_eval, (key, sorted(last_eval))
        assert math.isfinite(last_eval[key]), (key, last_eval[key])
    assert (runs / recipe / "ckpt" / "latest" / "model.safetensors").exists()


def test_demo_masks_mark_the_lesion_pixels(tmp_path):
    demo = make_demo(tmp_path, ["--masks"])
    positives = 0
    for row in rows(demo):
        mask = np.load(demo / row["mask"])
        assert mask.dtype == np.uint8 and mask.shape == (64, 64)
        assert (mask.any()) == (row["label"] == "1"), row
        if mask.any():
            positives += 1
            values = hu(demo / row["path"])
            # Soft-tissue lesion (40..80 HU) inside aerated lung (-850): the mask covers the former.
            assert 0 < np.median(values[mask == 1]) < 120, row
    assert positives > 0


def test_demo_multilabel_column_names_the_lungs_with_a_lesion(tmp_path):
    demo = make_demo(tmp_path, ["--multilabel", "--masks"])
    seen = set()
    for row in rows(demo):
        names = set(filter(None, row["labels"].split("|")))
        assert names <= {"right_lung_lesion", "left_lung_lesion"}
        seen |= {frozenset(names)}
        mask = np.load(demo / row["mask"])
        cols = np.nonzero(mask)[1]
        # The patient's right lung is on the image's left half.
        assert ("right_lung_lesion" in names) == bool((cols < 32).any()), row
        assert ("left_lung_lesion" in names) == bool((cols >= 32).any()), row
        assert (row["label"] == "1") == bool(names)
    assert frozenset({"right_lung_lesion", "left_lung_lesion"}) in seen  # both at once happens


def test_demo_volumes_are_whole_series_with_matching_masks(tmp_path):
    demo = make_demo(tmp_path, ["--volumes", "--masks"], count=96)
    manifest = rows(demo)
    assert len(manifest) == 12
    for row in manifest:
        # Volume order: along the slice normal (+z here), as the mask is stored.
        files = sorted((demo / row["path"]).iterdir(), key=lambda f: float(pydicom.dcmread(f).ImagePositionPatient[2]))
        mask = np.load(demo / row["mask"])
        assert mask.shape == (len(files), 64, 64)
        z = [float(pydicom.dcmread(f).ImagePositionPatient[2]) for f in files]
        assert len(set(z)) == len(files)
        assert (row["label"] == "1") == bool(mask.any())
        for k, f in enumerate(files):
            if mask[k].any():
                assert 0 < np.median(hu(f)[mask[k] == 1]) < 120, (row, k)
        if mask.any():
            # A sphere: its sections grow and shrink along the series, never in two pieces.
            area = mask.reshape(len(files), -1).sum(1)
            lit = np.nonzero(area)[0]
            assert np.all(np.diff(lit) == 1) and len(lit) >= 2, area
