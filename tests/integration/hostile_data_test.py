"""Hostile and careless DATA input never trains silently wrong (issue 21).

One probe per report: each ends with exit 2 and exactly one stderr line
"medtrain: error: ..." naming what and where, and changes nothing outside the
folder the command may write. The bad files are made with pydicom (an
independent writer) and read back with pydicom first, so each probe is known
to hold what it claims; the CSV is read with Python's csv module.
"""
import csv
import json
import os
import shutil
import warnings

import numpy as np
import pydicom
import pytest

from conftest import SOURCE, assert_user_error, run, smoke_args
from mpi_util import MPIRUN, mpirun


def snapshot(root):
    """{relative path: (kind, size, mtime)} of everything under root (no file is opened)."""
    out = {}
    for dirpath, dirnames, filenames in os.walk(root):
        for name in dirnames + filenames:
            p = os.path.join(dirpath, name)
            st = os.lstat(p)
            out[os.path.relpath(p, root)] = (st.st_mode >> 12, st.st_size, st.st_mtime_ns)
    return out


@pytest.fixture
def data(demo_data, tmp_path):
    """A private copy of the demo set, its manifest rows ({name: value} with the
    1-based manifest line), and a checker that the copy is unchanged."""
    root = tmp_path / "demo"
    shutil.copytree(demo_data, root)
    with open(root / "manifest.csv", newline="") as f:
        rows = [dict(row, line=n) for n, row in enumerate(csv.DictReader(f), 2)]
    return root, rows


def rewrite(path, **attrs):
    """Sets DICOM attributes with pydicom (values as DS text, invalid ones
    included), saves, and reads them back to prove the file holds them."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ds = pydicom.dcmread(str(path))
        for name, value in attrs.items():
            setattr(ds, name, value)
        ds.save_as(str(path))
        back = pydicom.dcmread(str(path))
        for name, value in attrs.items():
            assert str(getattr(back, name)) == str(value) or value == b"", (name, getattr(back, name))
    return back


def first_row(rows, split):
    return next(r for r in rows if r["split"] == split)


# ---- D5: non-finite or absurd rescale / window values -------------------------------------------

D5_CASES = [
    ({"RescaleSlope": "NaN"}, "RescaleSlope (0028,1053) is NaN"),
    ({"RescaleSlope": "1e308"}, "RescaleSlope (0028,1053) and RescaleIntercept (0028,1052)"),
    ({"RescaleSlope": "1e38"}, "beyond float32 range"),
    ({"RescaleIntercept": "INF"}, "RescaleIntercept (0028,1052) is infinite"),
    ({"RescaleSlope": "0"}, "RescaleSlope (0028,1053) is 0"),
    ({"WindowCenter": "40", "WindowWidth": "0"}, "WindowWidth (0028,1051) is not positive"),
    ({"WindowCenter": "NaN", "WindowWidth": "400"}, "WindowCenter (0028,1050) is NaN"),
]


@pytest.mark.parametrize("attrs,needle", D5_CASES, ids=[n for _, n in D5_CASES])
def test_inspect_refuses_non_finite_or_absurd_values(data, tmp_path, attrs, needle):
    root, rows = data
    f = root / first_row(rows, "train")["path"]
    rewrite(f, **attrs)
    before = snapshot(tmp_path)
    assert_user_error(run("inspect", f), str(f), needle)
    assert snapshot(tmp_path) == before


@pytest.mark.parametrize("on_error", ["fail", "skip"])
def test_training_on_a_nan_slope_file_fails_naming_it_or_skips_it(data, tmp_path, on_error):
    """The bad file is in the val split: evaluated at step 2, whatever the sampler does."""
    root, rows = data
    bad = first_row(rows, "val")["path"]
    rewrite(root / bad, RescaleSlope="NaN")
    runs = tmp_path / "runs"
    before = snapshot(root)
    r = run("train", *smoke_args(root, runs, "x", "--set", "run.max_steps=2", "--set", "run.eval_every_steps=2",
                                 "--set", f"data.on_error={on_error}"))
    assert snapshot(root) == before
    if on_error == "fail":
        assert_user_error(r, bad, "RescaleSlope (0028,1053) is NaN")
        return
    assert r.returncode == 0, r.stderr
    records = [json.loads(line) for line in (runs / "x" / "metrics.jsonl").read_text().splitlines()]
    losses = [rec["loss"] for rec in records if rec["kind"] == "train"]
    assert len(losses) == 2 and all(np.isfinite(losses)), losses
    evals = [rec for rec in records if rec["kind"] == "eval"]
    assert evals and all(np.isfinite(v) for k, v in evals[-1].items() if k.startswith("val/")), evals
    assert evals[-1]["val/skipped"] == 1, evals[-1]  # the skip is counted, not silent


def test_training_samples_skipped_are_reported_each_epoch(data, tmp_path):
    """A bad training file under data.on_error: skip is left out and said, once per
    epoch, in the log and as an event in metrics.jsonl (never silently)."""
    root, rows = data
    bad = first_row(rows, "train")["path"]  # unshuffled: in the first batch of every epoch
    rewrite(root / bad, RescaleSlope="NaN")
    runs = tmp_path / "runs"
    r = run("train", *smoke_args(root, runs, "x", "--set", "data.on_error=skip", "--set", "data.shuffle=false",
                                 "--set", "run.epochs=2"))
    assert r.returncode == 0, r.stderr
    records = [json.loads(line) for line in (runs / "x" / "metrics.jsonl").read_text().splitlines()]
    events = [rec for rec in records if rec.get("event") == "samples_skipped"]
    assert len(events) == 2, events
    assert all(e["action"].startswith("1 training samples of epoch") for e in events), events
    assert "samples_skipped: 1 training samples" in r.stdout + r.stderr


@pytest.mark.skipif(MPIRUN is None, reason="mpirun not installed (Debian openmpi-bin)")
def test_training_samples_skipped_are_summed_over_ranks(data, tmp_path):
    """On 2 ranks the epoch's count is every rank's skips, as val/skipped is.
    Unshuffled, rank r's k-th micro-batch is global batch 2k + r (data/sampler.cpp),
    so train rows 0 and 8 (batch 8) are one skip on rank 0 and one on rank 1."""
    root, rows = data
    train = [r for r in rows if r["split"] == "train"]
    assert len(train) >= 16, len(train)  # one step on 2 ranks
    for row in (train[0], train[8]):
        rewrite(root / row["path"], RescaleSlope="NaN")
    runs = tmp_path / "runs"
    r = mpirun(2, "train", *smoke_args(root, runs, "x", "--set", "data.on_error=skip", "--set", "data.shuffle=false",
                                       "--set", "run.epochs=1", "--set", "run.max_steps=1"))
    assert r.returncode == 0, r.stderr
    records = [json.loads(line) for line in (runs / "x" / "metrics.jsonl").read_text().splitlines()]
    events = [rec for rec in records if rec.get("event") == "samples_skipped"]
    assert len(events) == 1, events
    assert events[0]["action"].startswith("2 training samples of epoch "), events


def test_inspect_names_an_empty_pixel_data_element(data, tmp_path):
    root, rows = data
    f = root / first_row(rows, "train")["path"]
    ds = pydicom.dcmread(str(f))
    ds.file_meta.TransferSyntaxUID = pydicom.uid.ExplicitVRLittleEndian  # native: the element is read as is
    ds.PixelData = b""
    ds.save_as(str(f), enforce_file_format=True)
    back = pydicom.dcmread(str(f))
    assert 0x7FE00010 in back and not back[0x7FE00010].value
    before = snapshot(tmp_path)
    r = run("inspect", f)
    assert_user_error(r, str(f), "Pixel Data (7FE0,0010) is empty")
    assert "Normal" not in r.stderr
    assert snapshot(tmp_path) == before


# ---- D6: labels past model.num_classes, before step 1 ------------------------------------------

def with_label(root, rows, split, label):
    """Rewrites the manifest with `label` on the first row of `split`; returns that row."""
    row = first_row(rows, split)
    text = (root / "manifest.csv").read_text().splitlines()
    fields = text[row["line"] - 1].split(",")
    header = text[0].split(",")
    fields[header.index("label")] = str(label)
    text[row["line"] - 1] = ",".join(fields)
    (root / "manifest.csv").write_text("\n".join(text) + "\n")
    return row


@pytest.mark.parametrize("split", ["train", "val"])
def test_label_past_num_classes_stops_training_before_step_1(data, tmp_path, split):
    root, rows = data
    row = with_label(root, rows, split, 7)
    runs = tmp_path / "runs"
    before = snapshot(root)
    r = run("train", *smoke_args(root, runs, "x", "--set", "run.max_steps=2"))
    assert_user_error(r, f"manifest.csv:{row['line']}", "label 7", "model.num_classes 2")
    assert "step 1/" not in r.stdout
    assert not list(runs.rglob("step-*"))  # no checkpoint: nothing trained
    assert snapshot(root) == before


@pytest.fixture
def pack_with_label_7(data, tmp_path):
    root, rows = data
    row = with_label(root, rows, "train", 7)
    out = tmp_path / "pack"
    r = run("pack", "--manifest", root / "manifest.csv", "--out", out, "--shard-mb", "0.05", "--workers", 2,
            "--label-names", "no_lesion,lesion")
    assert r.returncode == 0, r.stderr
    return out, row


def test_verify_shards_reports_labels_past_the_declared_classes(pack_with_label_7, tmp_path):
    out, row = pack_with_label_7
    before = snapshot(tmp_path)
    r = run("verify-shards", out)
    assert_user_error(r, str(out), "1 bad records and 0 bad files")
    assert "label 7 is outside the 2 classes" in r.stdout, r.stdout
    assert snapshot(tmp_path) == before


def test_training_on_a_pack_with_label_7_stops_before_step_1(pack_with_label_7, tmp_path):
    out, row = pack_with_label_7
    runs = tmp_path / "runs"
    r = run("train", "-c", SOURCE / "configs/smoke.yaml", "--set", f"data.shards={out}", "--set",
            f"run.output_dir={runs}", "--set", "run.name=x", "--set", "run.max_steps=2")
    assert_user_error(r, str(out), ".shard: record ", "of split 'train' in the packed manifest", "label 7",
                      "model.num_classes 2")
    assert "step 1/" not in r.stdout
    assert not list(runs.rglob("step-*"))


# ---- D11 / D16: verify-shards on an interrupted pack; a positional DIR --------------------------

@pytest.fixture
def pack(data, tmp_path):
    root, _ = data
    out = tmp_path / "pack"
    r = run("pack", "--manifest", root / "manifest.csv", "--out", out, "--shard-mb", "0.05", "--workers", 2)
    assert r.returncode == 0, r.stderr
    return out


def test_verify_shards_takes_a_positional_dir_or_dir_option(pack):
    for args in ([pack], ["--dir", pack]):
        r = run("verify-shards", *args)
        assert r.returncode == 0, r.stderr
        assert ": 0 bad records, 0 bad files" in r.stdout, r.stdout
    readme = (SOURCE / "README.md").read_text()
    assert "`medtrain verify-shards DIR`" in readme  # the form the README shows works (above)


def test_verify_shards_refuses_an_interrupted_pack(pack, tmp_path):
    meta_path = pack / "metadata.json"
    meta = json.loads(meta_path.read_text())
    meta["complete"] = False  # what `pack` leaves when interrupted
    meta["shards"] = meta["shards"][:-2]
    meta_path.write_text(json.dumps(meta, indent=2))
    before = snapshot(tmp_path)
    r = run("verify-shards", pack)
    assert_user_error(r, str(meta_path), "incomplete", "re-run it with the same arguments")
    assert "0 bad records" not in r.stdout
    assert snapshot(tmp_path) == before


# ---- D17: FIFOs in place of files, guarded reads -----------------------------------------------

def test_inspect_on_a_fifo_fails_at_once(tmp_path):
    fifo = tmp_path / "x.dcm"
    os.mkfifo(fifo)
    before = snapshot(tmp_path)
    r = run("inspect", fifo, timeout=60)  # the old code blocked here forever
    assert_user_error(r, str(fifo), "a FIFO")
    assert snapshot(tmp_path) == before


def test_fifo_as_manifest_or_as_a_listed_file_is_refused(data, tmp_path):
    root, rows = data
    runs = tmp_path / "runs"
    fifo = tmp_path / "manifest.csv"
    os.mkfifo(fifo)
    r = run("train", *smoke_args(root, runs, "x", "--set", f"data.manifest={fifo}"), timeout=120)
    assert_user_error(r, str(fifo), "a FIFO")
    row = first_row(rows, "val")
    (root / row["path"]).unlink()
    os.mkfifo(root / row["path"])
    r = run("train", *smoke_args(root, runs, "x"), timeout=120)
    assert_user_error(r, f"manifest.csv:{row['line']}", row["path"], "neither a regular file nor a folder")
    assert not list(runs.rglob("step-*"))


def test_huge_paths_are_shortened_in_messages(tmp_path):
    huge = str(tmp_path / ("a" * 200)) + "/" + "b" * 100_000 + ".dcm"  # argv allows 128 KiB per argument
    for args in (["inspect", huge], ["verify-shards", huge]):
        r = run(*args)
        assert r.returncode == 2, r.stderr
        line = r.stderr.strip()
        assert len(line.splitlines()) == 1 and line.startswith("medtrain: error: ")
        assert len(line) < 500 and "..." in line, line[:500]


# ---- infer CSV: formula injection ---------------------------------------------------------------

def test_infer_csv_escapes_formula_labels(demo_data, tmp_path):
    names = ["=HYPERLINK(\"http://x\",\"y\")", "@SUM(A1)"]
    runs = tmp_path / "runs"
    r = run("train", *smoke_args(demo_data, runs, "x", "--set", "run.max_steps=1", "--set",
                                 "run.eval_every_steps=1", "--set", "checkpoint.every_steps=1",
                                 "--set", "data.label_names=" + json.dumps(names)))
    assert r.returncode == 0, r.stderr
    bundle = tmp_path / "bundle"
    r = run("export", "--checkpoint", runs / "x/ckpt/latest", "--format", "safetensors", "--out", bundle)
    assert r.returncode == 0, r.stderr
    images = sorted((demo_data).rglob("*.dcm"))[:3]
    inputs = tmp_path / "in"
    inputs.mkdir()
    for p in images:
        shutil.copy(p, inputs / p.name)
    out = tmp_path / "p.csv"
    r = run("infer", "--model", bundle, "--in", inputs, "--out", out, "--device", "cpu")
    assert r.returncode == 0, r.stderr
    with open(out, newline="") as f:
        table = list(csv.reader(f))
    assert len(table) == 1 + len(images)
    for row in table[1:]:
        assert row[1] in ["'" + n for n in names], row
        assert not row[1][0] in "=+-@\t\r"
    raw = out.read_text()
    assert "\n=" not in raw and ",=" not in raw and ",@" not in raw, raw
