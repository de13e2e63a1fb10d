"""Hostile and careless input to train, config, export and infer (issue 21): each
probe asserts the exit code, the one-line message naming what and where, and that
nothing outside the intended folder changed. Data-side probes (DICOM, manifests,
shards, inspect) are in hostile_data_test.py; deid's in deid_integrity_test.py."""
import fcntl
import hashlib
import json
import math
import os
from pathlib import Path

import pytest
from safetensors.numpy import load_file

from conftest import SOURCE, assert_user_error, run, smoke_args

TWO_STEPS = ["--set", "run.max_steps=2", "--set", "checkpoint.every_steps=1", "--set", "run.eval_every_steps=0"]


def tree_state(root):
    """Every file under root with its bytes' hash (links as their target); lock
    files name their last holder's pid and are left out."""
    state = {}
    for p in sorted(Path(root).rglob("*")):
        if p.name.endswith(".lock"):
            continue
        if p.is_symlink():
            state[str(p)] = "-> " + os.readlink(p)
        elif p.is_file():
            state[str(p)] = hashlib.sha256(p.read_bytes()).hexdigest()
    return state


@pytest.fixture(scope="module")
def trained(tmp_path_factory, demo_data):
    """A finished two-step run with checkpoints at steps 1 and 2."""
    runs = tmp_path_factory.mktemp("trained") / "runs"
    r = run("train", *smoke_args(demo_data, runs, "base", *TWO_STEPS))
    assert r.returncode == 0, r.stderr
    return runs / "base"


# D1 ----------------------------------------------------------------------------
@pytest.mark.parametrize("make", ["dev_zero", "fifo", "base_dev_zero"])
def test_config_from_a_device_or_fifo_is_refused_before_reading(tmp_path, make):
    if make == "dev_zero":
        config, needle = "/dev/zero", "a character device"
    elif make == "fifo":
        config = tmp_path / "pipe.yaml"
        os.mkfifo(config)
        needle = "a FIFO"
    else:
        config = tmp_path / "x.yaml"
        config.write_text("base: /dev/zero\n")
        needle = "a character device"
    r = run("config", "check", "-c", config, timeout=60)
    assert_user_error(r, needle, "expected a regular file")


# D2 ----------------------------------------------------------------------------
@pytest.mark.parametrize("name", ["/abs/path", "../x", "a/b", ".", "/", ".."])
def test_run_name_is_one_folder_name(tmp_path, demo_data, name):
    r = run("config", "check", *smoke_args(demo_data, tmp_path / "runs", name))
    assert_user_error(r, "run.name", "must be one folder name")
    r = run("train", *smoke_args(demo_data, tmp_path / "runs", name))
    assert_user_error(r, "run.name")
    assert not (tmp_path / "x").exists() and not (tmp_path / "runs").exists()


# D3 ----------------------------------------------------------------------------
def test_non_finite_loss_stops_the_run_without_a_nan_checkpoint(tmp_path, demo_data):
    runs = tmp_path / "runs"
    r = run("train", *smoke_args(demo_data, runs, "nan", "--set", "optim.lr=1e30", "--set", "run.max_steps=6",
                                 "--set", "checkpoint.every_steps=1", "--set", "run.eval_every_steps=0"))
    assert_user_error(r, "the loss is not finite", "step ")
    # Every checkpoint that was written holds finite weights; latest points at one.
    for step in (runs / "nan/ckpt").glob("step-*"):
        for name, t in load_file(str(step / "model.safetensors")).items():
            assert all(map(math.isfinite, t.astype("float64").ravel())), (step, name)
    events = [json.loads(line) for line in (runs / "nan/metrics.jsonl").read_text().splitlines()]
    stops = [e for e in events if e.get("kind") == "event"]
    assert stops and stops[-1]["event"] in ("non_finite_loss", "non_finite_parameters"), stops


# D4 ----------------------------------------------------------------------------
@pytest.mark.parametrize("setting,needle", [("data.std=1e-320", "data.std"), ("data.mean=1e308", "data.mean"),
                                            ("optim.lr=1e39", "float32")])
def test_values_that_break_as_float32_are_refused(tmp_path, demo_data, setting, needle):
    r = run("train", *smoke_args(demo_data, tmp_path / "runs", "f32", "--set", setting))
    assert_user_error(r, needle)
    assert not (tmp_path / "runs").exists()


# D12 ---------------------------------------------------------------------------
@pytest.mark.parametrize("where", ["run", "ckpt", "step"])
def test_export_never_overwrites_the_checkpoint_it_exports(trained, where):
    before = tree_state(trained)
    out = {"run": trained, "ckpt": trained / "ckpt", "step": trained / "ckpt/step-00000002"}[where]
    r = run("export", "--checkpoint", trained / "ckpt/latest", "--out", out, "--overwrite")
    assert_user_error(r, "--out", "checkpoint")
    assert tree_state(trained) == before


# D13 ---------------------------------------------------------------------------
def test_fresh_train_into_a_run_with_checkpoints_is_refused(tmp_path, demo_data):
    runs = tmp_path / "runs"
    assert run("train", *smoke_args(demo_data, runs, "r", *TWO_STEPS)).returncode == 0
    before = tree_state(runs)
    r = run("train", *smoke_args(demo_data, runs, "r", *TWO_STEPS, "--set", "optim.lr=0.5"))
    assert_user_error(r, str(runs / "r"), "--resume auto", "--overwrite")
    assert tree_state(runs) == before
    # --overwrite starts over: the old run's metrics are gone, not mixed in.
    r = run("train", *smoke_args(demo_data, runs, "r", *TWO_STEPS, "--set", "optim.lr=0.5"), "--overwrite")
    assert r.returncode == 0, r.stderr
    steps = [json.loads(x)["step"] for x in (runs / "r/metrics.jsonl").read_text().splitlines()
             if json.loads(x).get("kind") == "train"]
    assert steps == [1, 2], steps
    assert "lr: 0.5" in (runs / "r/config.yaml").read_text()


def test_a_second_writer_of_a_run_folder_fails_naming_the_holder(tmp_path, demo_data):
    run_dir = tmp_path / "runs/held"
    run_dir.mkdir(parents=True)
    with hold_lock(run_dir / ".medtrain.lock", "medtrain train (pid 4242)"):
        r = run("train", *smoke_args(demo_data, tmp_path / "runs", "held", *TWO_STEPS))
    assert_user_error(r, str(run_dir), "in use by medtrain train (pid 4242)")
    assert sorted(p.name for p in run_dir.iterdir()) == [".medtrain.lock"]


# D14 ---------------------------------------------------------------------------
def test_negative_step_in_a_rehashed_trainer_state_is_refused(tmp_path, demo_data):
    runs = tmp_path / "runs"
    assert run("train", *smoke_args(demo_data, runs, "neg", *TWO_STEPS)).returncode == 0
    step = (runs / "neg/ckpt/latest").resolve()
    state = json.loads((step / "trainer_state.json").read_text())
    state["step"] = -5
    text = json.dumps(state, indent=2) + "\n"
    (step / "trainer_state.json").write_text(text)
    manifest = json.loads((step / "manifest.json").read_text())
    manifest["files"]["trainer_state.json"] = {"sha256": hashlib.sha256(text.encode()).hexdigest(),
                                               "size": len(text.encode())}
    (step / "manifest.json").write_text(json.dumps(manifest, indent=2) + "\n")
    before = tree_state(runs)
    r = run("train", *smoke_args(demo_data, runs, "neg", "--set", "run.max_steps=4"), "--resume", "auto")
    assert_user_error(r, "trainer_state.json", "\"step\"", "must be >= 0")
    assert tree_state(runs) == before


# D15 ---------------------------------------------------------------------------
@pytest.mark.parametrize("key,value,needle", [("image_size", "99999999999", "<= 4096"),
                                              ("std", "1.0e-320", "data.std"),
                                              ("mean", "1.0e+308", "data.mean")])
def test_bundle_values_are_bounded_like_the_config(tmp_path, trained, demo_data, key, value, needle):
    bundle = tmp_path / "bundle"
    r = run("export", "--checkpoint", trained / "ckpt/latest", "--out", bundle, "--format", "safetensors")
    assert r.returncode == 0, r.stderr
    card = bundle / "model.yaml"
    lines = card.read_text().splitlines()
    edited = [f"  {key}: {value}" if line.strip().startswith(f"{key}:") and line.startswith("  ") else line
              for line in lines]
    assert edited != lines
    card.write_text("\n".join(edited) + "\n")
    r = run("infer", "--model", bundle, "--in", demo_data, "--out", tmp_path / "p.csv")
    assert_user_error(r, "model.yaml", f"preprocessing.{key}", needle)
    assert not (tmp_path / "p.csv").exists()


# Output folders and long paths ---------------------------------------------------
def test_an_output_folder_that_is_a_file_is_a_user_error(tmp_path, demo_data):
    blocker = tmp_path / "runs"
    blocker.write_text("not a folder")
    r = run("train", *smoke_args(demo_data, blocker, "x", *TWO_STEPS))
    assert_user_error(r, str(blocker))
    assert blocker.read_text() == "not a folder"


def test_a_long_path_is_not_echoed_whole(tmp_path):
    r = run("config", "check", "-c", "/nonexistent/" + "a" * 100_000 + ".yaml")
    assert r.returncode == 2
    assert len(r.stderr) < 1000, len(r.stderr)


def hold_lock(path, holder):
    """Opens and flocks `path` like a running medtrain would; the caller closes it."""
    f = open(path, "w")
    fcntl.flock(f, fcntl.LOCK_EX)
    f.write(holder + "\n")
    f.flush()
    return f


def test_pack_and_export_outputs_have_one_writer(tmp_path, demo_data, trained):
    out = tmp_path / "pack"
    out.mkdir()
    with hold_lock(out / ".medtrain.lock", "medtrain pack (pid 777)"):
        r = run("pack", "--manifest", demo_data / "manifest.csv", "--out", out)
    assert_user_error(r, str(out), "in use by medtrain pack (pid 777)")
    assert sorted(p.name for p in out.iterdir()) == [".medtrain.lock"]
    with hold_lock(tmp_path / ".bundle.medtrain-export.lock", "medtrain export (pid 778)"):
        r = run("export", "--checkpoint", trained / "ckpt/latest", "--out", tmp_path / "bundle")
    assert_user_error(r, "in use by medtrain export (pid 778)")
    assert not (tmp_path / "bundle").exists()


def test_infer_from_a_fifo_manifest_or_bundle_file_does_not_block(tmp_path, trained):
    bundle = tmp_path / "bundle"
    assert run("export", "--checkpoint", trained / "ckpt/latest", "--out", bundle,
               "--format", "safetensors").returncode == 0
    fifo = tmp_path / "list.csv"
    os.mkfifo(fifo)
    r = run("infer", "--model", bundle, "--in", fifo, "--out", tmp_path / "p.csv", timeout=60)
    assert_user_error(r, "list.csv", "a FIFO")
    (bundle / "model.safetensors").unlink()
    os.mkfifo(bundle / "model.safetensors")
    r = run("infer", "--model", bundle, "--in", fifo, "--out", tmp_path / "p.csv", timeout=60)
    assert_user_error(r, "model.safetensors", "a FIFO")
