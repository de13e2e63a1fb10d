"""Resuming is exact: a run stopped at step k and resumed reaches bitwise the
same weights at step n as the uninterrupted run; a signal stops training
cleanly with a checkpoint that resumes."""
import signal
import subprocess
import time

import numpy as np
from safetensors.numpy import load_file

from conftest import BIN, SOURCE, run, smoke_args

STEPS = ["--set", "run.max_steps=9", "--set", "run.epochs=4", "--set", "checkpoint.every_steps=3",
         "--set", "run.eval_every_steps=3", "--set", "checkpoint.keep_last=10"]


def tensors(ckpt_dir, name):
    return load_file(str(ckpt_dir / name))


def assert_bitwise_equal(a, b):
    assert a.keys() == b.keys()
    for k in a:
        assert a[k].dtype == b[k].dtype and np.array_equal(a[k], b[k], equal_nan=True), k


def test_resume_from_step_k_is_bitwise_identical(tmp_path, demo_data):
    runs = tmp_path / "runs"
    full = run("train", *smoke_args(demo_data, runs, "full", *STEPS))
    assert full.returncode == 0, full.stderr
    # Step 6 sits inside epoch 1 (4-5 steps per epoch here): the sampler position matters.
    resumed = run("train", *smoke_args(demo_data, runs, "resumed", *STEPS),
                  "--resume", runs / "full/ckpt/step-00000006")
    assert resumed.returncode == 0, resumed.stderr
    assert "resumed from" in resumed.stdout
    a, b = runs / "full/ckpt/step-00000009", runs / "resumed/ckpt/step-00000009"
    assert_bitwise_equal(tensors(a, "model.safetensors"), tensors(b, "model.safetensors"))
    assert_bitwise_equal(tensors(a, "optimizer.safetensors"), tensors(b, "optimizer.safetensors"))


def test_sigterm_stops_after_the_step_with_a_checkpoint_that_resumes(tmp_path, demo_data):
    runs = tmp_path / "runs"
    args = smoke_args(demo_data, runs, "sig", "--set", "run.max_steps=400", "--set", "run.epochs=200",
                      "--set", "checkpoint.every_steps=0", "--set", "run.eval_every_steps=0")
    proc = subprocess.Popen([BIN, "train", *map(str, args)], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True)
    metrics = runs / "sig/metrics.jsonl"
    deadline = time.time() + 120
    while time.time() < deadline and (not metrics.exists() or metrics.read_text().count('"train"') < 2):
        time.sleep(0.2)
    proc.send_signal(signal.SIGTERM)
    out, err = proc.communicate(timeout=120)
    assert proc.returncode == 75, (out, err)
    assert "stopped by a signal" in err
    latest = (runs / "sig/ckpt/latest").resolve()
    assert latest.is_dir() and (latest / "manifest.json").exists()
    assert not list((runs / "sig/ckpt").glob(".tmp*"))
    stopped_at = int(latest.name.split("-")[1])
    assert 2 <= stopped_at < 400
    r = run("train", *smoke_args(demo_data, runs, "sig", "--set", f"run.max_steps={stopped_at + 2}",
                                 "--set", "run.epochs=200"), "--resume", "auto")
    assert r.returncode == 0, r.stderr
    assert f"at step {stopped_at}" in r.stdout
    assert (runs / "sig/ckpt/latest").resolve().name == f"step-{stopped_at + 2:08d}"
