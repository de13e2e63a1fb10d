"""End to end: `medtrain demo-data` -> `medtrain pack` -> `medtrain train` on the
shards. The packed pixels are compared with pydicom's own decoding of every
file (modality LUT applied: HU), through an independent reader of the format
(shard_py.py) and hashlib for the file checksums."""
import csv
import hashlib
import json
import shutil

import numpy as np
import pydicom
import pytest

from conftest import SOURCE, assert_user_error, run
from shard_py import read_shard


@pytest.fixture(scope="module")
def packed(demo_data, tmp_path_factory):
    out = tmp_path_factory.mktemp("packed") / "shards"
    r = run("pack", "--manifest", demo_data / "manifest.csv", "--out", out, "--shard-mb", "0.05",
            "--workers", 2, "--label-names", "no_lesion,lesion")
    assert r.returncode == 0, r.stderr
    assert "packed 48 records" in r.stdout
    return out


def hu_by_pydicom(path):
    ds = pydicom.dcmread(str(path))
    return pydicom.pixels.apply_modality_lut(ds.pixel_array, ds).astype(np.float32)


def test_records_equal_pydicom_hu_and_metadata_is_consistent(demo_data, packed):
    meta = json.loads((packed / "metadata.json").read_text())
    assert meta["complete"] is True and meta["format_version"] == 1
    assert meta["manifest_sha256"] == hashlib.sha256((demo_data / "manifest.csv").read_bytes()).hexdigest()
    assert meta["label_names"] == ["no_lesion", "lesion"]
    assert meta["preprocessing"]["window_applied"] is False
    rows = list(csv.DictReader(open(demo_data / "manifest.csv")))
    by_split = {}
    for row in rows:
        by_split.setdefault(row["split"], []).append(row)
        assert meta["patient_split"][row["patient_id"]] == row["split"]
    assert meta["records_per_split"] == {k: len(v) for k, v in by_split.items()}
    assert len(meta["shards"]) > 2
    records = {}
    for shard in meta["shards"]:
        data = (packed / shard["file"]).read_bytes()
        assert hashlib.sha256(data).hexdigest() == shard["sha256"] and len(data) == shard["bytes"]
        got = read_shard(packed / shard["file"])
        assert len(got) == shard["records"]
        records.setdefault(shard["split"], []).extend(got)
    for split, split_rows in by_split.items():
        assert [r["id"] for r in records[split]] == [row["path"] for row in split_rows]  # manifest order
        for rec, row in zip(records[split], split_rows):
            assert rec["label"] == int(row["label"]) and rec["patient_id"] == row["patient_id"]
            np.testing.assert_array_equal(rec["pixels"], hu_by_pydicom(demo_data / row["path"]))


def test_train_on_shards_with_disk_cache(demo_data, packed, tmp_path):
    cache = tmp_path / "cache"
    args = ["train", "-c", SOURCE / "configs/quickstart.yaml", "--set", f"data.shards={packed}",
            "--set", "run.max_steps=3", "--set", f"run.output_dir={tmp_path / 'runs'}",
            "--set", f"data.cache_dir={cache}", "--set", "data.shuffle_buffer=16",
            "--set", "optim.batch_size=8", "--set", "log.every_steps=1"]
    r = run(*args, "--set", "data.manifest=does/not/exist.csv")  # the manifest is not read with shards
    assert r.returncode == 0, r.stderr
    assert "step 3/3" in r.stdout
    assert "data.shards: 0 bad records" in r.stdout and "fetches" in r.stdout
    # Copies run in the background and a run that ends stops them (no temp file
    # stays); every copy that was put in place is the shard's exact bytes.
    meta = json.loads((packed / "metadata.json").read_text())
    assert set(p.name for p in cache.rglob("*.shard")) <= set(s["file"] for s in meta["shards"])
    assert not [p for p in cache.rglob("*") if ".tmp" in p.name]
    for p in cache.rglob("*.shard"):
        assert p.read_bytes() == (packed / p.name).read_bytes()


def test_pack_errors_are_one_line(tmp_path, demo_data):
    assert_user_error(run("pack", "--manifest", tmp_path / "none.csv", "--out", tmp_path / "o"),
                      "none.csv: manifest not found")
    rows = (demo_data / "manifest.csv").read_text().splitlines()
    bad = tmp_path / "bad.csv"
    first = rows[1].split(",")
    second = rows[2].split(",")
    bad.write_text("\n".join([rows[0], ",".join(first[:2] + ["PZ", "train"]),
                              ",".join(second[:2] + ["PZ", "val"])]) + "\n")
    assert_user_error(run("pack", "--manifest", bad, "--root", demo_data, "--out", tmp_path / "o"),
                      "patient PZ is in split")
    assert_user_error(run("train", "-c", SOURCE / "configs/quickstart.yaml", "--set",
                          f"data.shards={tmp_path / 'nothing'}"), "no shard metadata")


def test_resume_on_shards_is_bitwise_identical(tmp_path, demo_data, packed):
    """The shard order (shard shuffle + buffer) is a pure function of (seed, epoch):
    stopping at step 6 (inside epoch 1) and resuming reaches the same weights."""
    from resume_test import STEPS, assert_bitwise_equal, tensors
    from conftest import smoke_args
    runs = tmp_path / "runs"
    shard_args = ["--set", f"data.shards={packed}", "--set", "data.shuffle_buffer=8"]
    full = run("train", *smoke_args(demo_data, runs, "full", *STEPS, *shard_args))
    assert full.returncode == 0, full.stderr
    resumed = run("train", *smoke_args(demo_data, runs, "resumed", *STEPS, *shard_args),
                  "--resume", runs / "full/ckpt/step-00000006")
    assert resumed.returncode == 0, resumed.stderr
    assert "resumed from" in resumed.stdout
    a, b = runs / "full/ckpt/step-00000009", runs / "resumed/ckpt/step-00000009"
    assert_bitwise_equal(tensors(a, "model.safetensors"), tensors(b, "model.safetensors"))


@pytest.fixture
def damaged(demo_data, tmp_path):
    """A copy of the demo data with two unreadable files (garbage; truncated
    inside the pixel data), and what the test expects of them, found from the
    manifest text: {path: (line, split)}."""
    data = tmp_path / "demo"
    shutil.copytree(demo_data, data)
    lines = (data / "manifest.csv").read_text().splitlines()
    header = lines[0].split(",")
    rows = [(number, dict(zip(header, text.split(",")))) for number, text in enumerate(lines, 1) if number > 1]
    (line_a, a), (line_b, b) = rows[1], rows[30]
    (data / a["path"]).write_bytes(b"not a DICOM file at all")
    (data / b["path"]).write_bytes((data / b["path"]).read_bytes()[:300])
    return data, {a["path"]: (line_a, a["split"]), b["path"]: (line_b, b["split"])}


def test_on_error_skip_leaves_out_and_lists_exactly_the_bad_files(damaged, tmp_path):
    data, bad = damaged
    out = tmp_path / "skip"
    r = run("pack", "--manifest", data / "manifest.csv", "--out", out, "--shard-mb", "0.05", "--workers", 2,
            "--on-error", "skip")
    assert r.returncode == 0, r.stderr
    assert "packed 46 records" in r.stdout and "skipped 2 files" in r.stdout, r.stdout
    for path, (line, _) in bad.items():
        assert f"manifest.csv:{line}: {path}: " in r.stdout, r.stdout
    meta = json.loads((out / "metadata.json").read_text())
    assert meta["complete"] is True
    expected = sorted(((split, line, path) for path, (line, split) in bad.items()))
    assert [(s["split"], s["line"], s["path"]) for s in meta["skipped"]] == expected
    for s in meta["skipped"]:
        assert s["path"] in s["error"] and str(data) not in s["error"], s["error"]
    # Every other file is packed, in manifest order; the skipped ones nowhere.
    rows = list(csv.DictReader(open(data / "manifest.csv")))
    ids = {}
    for shard in meta["shards"]:
        ids.setdefault(shard["split"], []).extend(rec["id"] for rec in read_shard(out / shard["file"]))
    for split in {row["split"] for row in rows}:
        want = [row["path"] for row in rows if row["split"] == split and row["path"] not in bad]
        assert ids[split] == want, split
        assert meta["records_per_split"][split] == len(want)
    # Byte-identical for another worker count, skips included.
    again = tmp_path / "skip1"
    r1 = run("pack", "--manifest", data / "manifest.csv", "--out", again, "--shard-mb", "0.05", "--workers", 1,
             "--on-error", "skip")
    assert r1.returncode == 0, r1.stderr
    # The pack's files, not the lock file (it names its last holder's pid).
    files = sorted(p.name for p in out.iterdir() if p.name != ".medtrain.lock")
    assert files == sorted(p.name for p in again.iterdir() if p.name != ".medtrain.lock")
    for name in files:
        assert (out / name).read_bytes() == (again / name).read_bytes(), name


def test_on_error_fail_names_the_file_and_line_and_leaves_no_complete_pack(damaged, tmp_path):
    data, bad = damaged
    first = min(bad.items(), key=lambda kv: kv[1][0])[0]  # the first bad row in the manifest
    out = tmp_path / "fail"
    r = run("pack", "--manifest", data / "manifest.csv", "--out", out, "--shard-mb", "0.05", "--workers", 2)
    assert_user_error(r, f"manifest.csv:{bad[first][0]}: cannot pack {first}: ", "--on-error skip")
    assert not list(out.glob("*.tmp*"))
    assert json.loads((out / "metadata.json").read_text())["complete"] is False
    assert_user_error(run("train", "-c", SOURCE / "configs/quickstart.yaml", "--set", f"data.shards={out}"),
                      "the pack was interrupted")
    assert_user_error(run("pack", "--manifest", data / "manifest.csv", "--out", out, "--on-error", "sometimes"),
                      "--on-error")


def train_recipe_from_pack(recipe, pack, runs, shuffle_buffer):
    """Two steps of configs/recipes/RECIPE.yaml on the pack (CPU, evaluating at
    step 2); returns the last evaluation record."""
    r = run("train", "-c", SOURCE / "configs/recipes" / f"{recipe}.yaml", "--set", f"data.shards={pack}",
            "--set", f"run.output_dir={runs}", "--set", "run.max_steps=2", "--set", "run.eval_every_steps=2",
            "--set", "run.device=cpu", "--set", "data.workers=1", "--set", "schedule.warmup_steps=0",
            "--set", f"data.shuffle_buffer={shuffle_buffer}", timeout=600)
    assert r.returncode == 0, r.stderr
    records = [json.loads(l) for l in (runs / recipe / "metrics.jsonl").read_text().splitlines()]
    return [x for x in records if x["kind"] == "eval"][-1]


def test_multilabel_pack_stores_the_findings_and_trains_the_chexnet_recipe(tmp_path):
    """--target multilabel: each record's label is the labels column as a bit set
    (bit i = label_names[i]); the CheXNet recipe trains from it and evaluates
    per-finding AUROC; a class task on that pack, or a multilabel task on a
    class pack, is one clear line."""
    demo = tmp_path / "demo"
    assert run("demo-data", "--out", demo, "--count", 48, "--patients", 12, "--size", 64, "--seed", 4,
               "--multilabel").returncode == 0
    names = ["right_lung_lesion", "left_lung_lesion"]
    pack = tmp_path / "pack"
    r = run("pack", "--manifest", demo / "manifest.csv", "--out", pack, "--target", "multilabel",
            "--label-names", ",".join(names))
    assert r.returncode == 0, r.stderr
    meta = json.loads((pack / "metadata.json").read_text())
    assert meta["target"] == "multilabel" and meta["label_names"] == names
    expected = {}
    for row in csv.DictReader(open(demo / "manifest.csv")):
        present = set(filter(None, row["labels"].split("|")))
        expected[row["path"]] = sum(1 << i for i, n in enumerate(names) if n in present)
    got = {rec["id"]: rec["label"] for s in meta["shards"] for rec in read_shard(pack / s["file"])}
    assert got == expected and len(set(got.values())) > 2  # none, one and both findings occur

    runs = tmp_path / "runs"
    last_eval = train_recipe_from_pack("chexnet_densenet121", pack, runs, shuffle_buffer=8)
    assert {"val/auroc_right_lung_lesion", "val/auroc_left_lung_lesion"} <= last_eval.keys()

    assert_user_error(run("train", "-c", SOURCE / "configs/smoke.yaml", "--set", f"data.shards={pack}",
                          "--set", f"run.output_dir={runs}"), "the pack holds multilabel labels")
    class_pack = tmp_path / "class_pack"
    assert run("pack", "--manifest", demo / "manifest.csv", "--out", class_pack,
               "--label-names", ",".join(names)).returncode == 0
    assert json.loads((class_pack / "metadata.json").read_text())["target"] == "class"
    assert_user_error(run("train", "-c", SOURCE / "configs/recipes/chexnet_densenet121.yaml",
                          "--set", f"data.shards={class_pack}", "--set", f"run.output_dir={runs}"),
                      "needs a pack made with `medtrain pack --target multilabel`")
    assert_user_error(run("pack", "--manifest", SOURCE / "configs/smoke.yaml", "--out", tmp_path / "x",
                          "--target", "bogus"), "--target")


def test_volume_mask_pack_holds_the_series_and_trains_the_unet3d_recipe(tmp_path):
    """--target mask --volumes: each record is a whole series (slices ordered
    along +z, HU as pydicom computes them) with its .npy mask, read back by the
    independent reader; the 3D U-Net recipe trains from the pack; a 2D class
    configuration on it, and the recipe on a 2D pack, are one clear line each."""
    demo = tmp_path / "demo"
    assert run("demo-data", "--out", demo, "--count", 48, "--patients", 6, "--size", 32, "--seed", 3,
               "--volumes", "--masks").returncode == 0
    pack = tmp_path / "pack"
    r = run("pack", "--manifest", demo / "manifest.csv", "--out", pack, "--target", "mask", "--volumes",
            "--shard-mb", "0.02")
    assert r.returncode == 0, r.stderr
    meta = json.loads((pack / "metadata.json").read_text())
    assert meta["target"] == "mask" and meta["volumes"] is True and len(meta["shards"]) > 2
    records = {rec["id"]: rec for s in meta["shards"] for rec in read_shard(pack / s["file"])}
    manifest = list(csv.DictReader(open(demo / "manifest.csv")))
    assert sorted(records) == sorted(row["path"] for row in manifest)
    for row in manifest:
        rec = records[row["path"]]
        files = sorted((demo / row["path"]).iterdir(), key=lambda f: float(pydicom.dcmread(f).ImagePositionPatient[2]))
        volume = np.stack([hu_by_pydicom(f) for f in files])
        np.testing.assert_array_equal(rec["pixels"], volume)
        z = [float(pydicom.dcmread(f).ImagePositionPatient[2]) for f in files]
        rows_mm, cols_mm = (float(v) for v in pydicom.dcmread(files[0]).PixelSpacing)
        np.testing.assert_allclose(rec["spacing"], (z[1] - z[0], rows_mm, cols_mm), rtol=1e-6)
        np.testing.assert_array_equal(rec["mask"], np.load(demo / row["mask"]))
    assert any(rec["mask"].any() for rec in records.values())

    runs = tmp_path / "runs"
    assert "val/dice_lesion" in train_recipe_from_pack("ct_unet3d", pack, runs, shuffle_buffer=4)

    assert_user_error(run("train", "-c", SOURCE / "configs/smoke.yaml", "--set", f"data.shards={pack}",
                          "--set", f"run.output_dir={runs}"), "the pack holds volumes")
    flat = tmp_path / "flat"
    assert run("demo-data", "--out", flat, "--count", 8, "--patients", 2, "--size", 32, "--masks").returncode == 0
    flat_pack = tmp_path / "flat_pack"
    assert run("pack", "--manifest", flat / "manifest.csv", "--out", flat_pack, "--target", "mask").returncode == 0
    assert_user_error(run("train", "-c", SOURCE / "configs/recipes/ct_unet3d.yaml", "--set", f"data.shards={flat_pack}",
                          "--set", f"run.output_dir={runs}"), "the pack holds 2D images", "pack --volumes")
    assert_user_error(run("pack", "--manifest", demo / "manifest.csv", "--out", tmp_path / "x"),
                      "manifest.csv:2: file", "is a folder")
