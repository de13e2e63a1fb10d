"""Checkpoints on a full disk (docs/training.md, "Full disk"): 2 ranks train
with the run folder on nasfs --writable while an `enospc` rule hits the
checkpoint files. One failed interval: a warning, training goes on, `latest`
stays intact. ENOSPC that stays: exit 1 after checkpoint.max_failed_saves
naming the last intact checkpoint; `--resume auto` once there is space reaches
the uninterrupted run's weights bitwise. Export and deid onto a full tmpfs:
exit non-zero, one line naming the path, nothing half-written under a final
name. The nasfs fault log proves every fault really happened."""
import hashlib
import json
import signal
import subprocess
import time

import numpy as np
import pydicom
import pytest
from safetensors.numpy import load_file

from conftest import BIN, run, smoke_args
from mpi_util import MPIRUN, mpirun
from nasfs_mount import injected_faults, nas_mount, require_fuse, set_faults

# 12 steps, a checkpoint every 3; a small model with plain SGD keeps each checkpoint ~20 MB.
STEPS = ["--set", "run.max_steps=12", "--set", "run.epochs=20", "--set", "checkpoint.every_steps=3",
         "--set", "run.eval_every_steps=0", "--set", "checkpoint.keep_last=10",
         "--set", "model.name=efficientnet_b0", "--set", "optim.name=sgd", "--set", "optim.momentum=0.5"]


def train_2(demo, runs, name, *extra):
    return mpirun(2, "train", *smoke_args(demo, runs, name, *STEPS, *extra), timeout=300)


def weights(step_dir):
    return {f: load_file(str(step_dir / f)) for f in ("model.safetensors", "optimizer.safetensors")}


def assert_bitwise_equal(a, b):
    for f in a:
        assert a[f].keys() == b[f].keys(), f
        for k in a[f]:
            assert a[f][k].dtype == b[f][k].dtype and np.array_equal(a[f][k], b[f][k], equal_nan=True), (f, k)


def events(run_dir, name):
    recs = [json.loads(line) for line in (run_dir / "metrics.jsonl").read_text().splitlines() if line.strip()]
    return [r for r in recs if r.get("kind") == "event" and r.get("event") == name]


def step_dirs(ckpt):
    return sorted(p.name for p in ckpt.iterdir() if p.name.startswith("step-"))


def leftovers(ckpt):
    return [p.name for p in ckpt.iterdir() if ".tmp" in p.name]


@pytest.fixture(scope="module")
def reference(tmp_path_factory, demo_data):
    if MPIRUN is None:
        pytest.skip("mpirun is not installed")
    runs = tmp_path_factory.mktemp("ref_runs")
    r = train_2(demo_data, runs, "full")
    assert r.returncode == 0, r.stderr
    return runs / "full/ckpt"


@pytest.fixture()
def nas(tmp_path):
    require_fuse()
    src, mnt = tmp_path / "nas_src", tmp_path / "nas"
    src.mkdir()
    faults, log = tmp_path / "faults.txt", tmp_path / "faults.log"
    set_faults(faults, [])
    with nas_mount(src, mnt, latency_ms=0.0, faults=faults, fault_log=log, writable=True):
        yield mnt, faults, log


def test_one_failed_interval_warns_and_training_goes_on(nas, demo_data, reference):
    mnt, faults, log = nas
    set_faults(faults, ["write *ckpt/.tmp-step-00000006-* enospc"])
    r = train_2(demo_data, mnt, "t")
    assert r.returncode == 0, r.stderr
    hits = injected_faults(log)
    assert hits and all(op == "write" and ".tmp-step-00000006-" in p and f == "enospc" for op, p, f in hits), hits
    warning = [line for line in r.stdout.splitlines() if "checkpoint_failed" in line]
    assert len(warning) == 1, r.stdout
    assert "No space left on device" in warning[0] and ".tmp-step-00000006-" in warning[0], warning
    assert "latest stays" in warning[0] and "step-00000003" in warning[0], warning
    assert [e["checkpoint_failures"] for e in events(mnt / "t", "checkpoint_failed")] == [1]
    ckpt = mnt / "t/ckpt"
    assert step_dirs(ckpt) == ["step-00000003", "step-00000009", "step-00000012"]
    assert not leftovers(ckpt)
    assert (ckpt / "latest").resolve().name == "step-00000012"
    assert_bitwise_equal(weights(ckpt / "latest"), weights(reference / "step-00000012"))


def test_enospc_that_stays_stops_with_exit_1_then_resume_is_bitwise(nas, demo_data, reference):
    mnt, faults, log = nas
    # Step 3 gets through, every later checkpoint hits a full disk.
    set_faults(faults, ["write *ckpt/.tmp-step-0000000[6-9]-* enospc", "write *ckpt/.tmp-step-0000001?-* enospc"])
    r = train_2(demo_data, mnt, "t", "--set", "checkpoint.max_failed_saves=2")
    assert r.returncode == 1, (r.stdout, r.stderr)
    assert {p.split("/")[2][:len(".tmp-step-00000006")] for _, p, _ in injected_faults(log)} == {
        ".tmp-step-00000006", ".tmp-step-00000009"}
    errors = [line for line in r.stderr.splitlines() if line.startswith("medtrain: error:")]
    assert errors, r.stderr
    for line in errors:  # every rank says the same, with rank 0's path
        assert "checkpoint of step 9 not saved (2 failures in a row, checkpoint.max_failed_saves 2)" in line, line
        assert ".tmp-step-00000009-" in line and "No space left on device" in line, line
        assert f"the last intact checkpoint is {mnt / 't/ckpt/step-00000003'}" in line, line
    ckpt = mnt / "t/ckpt"
    assert step_dirs(ckpt) == ["step-00000003"] and not leftovers(ckpt)
    assert (ckpt / "latest").resolve().name == "step-00000003"
    assert [e["checkpoint_failures"] for e in events(mnt / "t", "checkpoint_failed")] == [1, 2]

    set_faults(faults, [])  # space again
    crashed = ckpt / ".tmp-step-00000099-4242"  # what a save killed mid-way leaves: removed at the start
    crashed.mkdir()
    (crashed / "model.safetensors").write_bytes(b"partial")
    r = train_2(demo_data, mnt, "t", "--set", "checkpoint.max_failed_saves=2", "--resume", "auto")
    assert r.returncode == 0, r.stderr
    assert "at step 3" in r.stdout
    assert not leftovers(ckpt)
    assert_bitwise_equal(weights(ckpt / "latest"), weights(reference / "step-00000012"))


def test_a_failed_final_checkpoint_is_exit_1(nas, demo_data):
    # EIO this time, from fsync: the same path as ENOSPC from write.
    mnt, faults, log = nas
    set_faults(faults, ["fsync *ckpt/.tmp-step-00000004-* eio"])
    r = run("train", *smoke_args(demo_data, mnt, "f", *STEPS, "--set", "run.max_steps=4"))
    assert r.returncode == 1, (r.stdout, r.stderr)
    hits = injected_faults(log)
    assert hits and all(op == "fsync" and f == "eio" for op, _, f in hits), hits
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1 and "checkpoint of step 4 not saved (the final checkpoint)" in lines[0], r.stderr
    assert "step-00000003" in lines[0] and "Input/output error" in lines[0], lines
    assert (mnt / "f/ckpt/latest").resolve().name == "step-00000003"
    assert not leftovers(mnt / "f/ckpt")


@pytest.fixture()
def full_tmpfs(tmp_path):
    """A 256 KiB tmpfs: a real ENOSPC for outputs larger than that."""
    disk = tmp_path / "disk"
    disk.mkdir()
    r = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=256k", "tmpfs", str(disk)], capture_output=True, text=True)
    if r.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs (needs root): {r.stderr.strip()}")
    try:
        yield disk
    finally:
        subprocess.run(["umount", "-l", str(disk)], check=False)


def assert_one_error_line(r, *needles):
    assert r.returncode != 0, (r.stdout, r.stderr)
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("medtrain: error: "), r.stderr
    for n in needles:
        assert n in lines[0], (n, lines[0])


def test_export_onto_a_full_disk_leaves_no_bundle(full_tmpfs, reference):
    out = full_tmpfs / "model"
    r = run("export", "--checkpoint", reference / "latest", "--format", "safetensors,onnx", "--out", out)
    assert_one_error_line(r, str(full_tmpfs), "No space left on device")
    assert not out.exists()
    assert [p.name for p in full_tmpfs.iterdir() if not p.name.endswith(".lock")] == []


def test_deid_onto_a_full_disk_leaves_no_partial_file(full_tmpfs, demo_data, tmp_path):
    key = tmp_path / "key.bin"
    key.write_bytes(b"integration-test-key-0123456789abcdef")
    key.chmod(0o600)
    out = full_tmpfs / "deid"
    r = run("deid", "--in", demo_data / "images", "--out", out, "--key-file", key, "--jobs", 2)
    assert_one_error_line(r, str(out), "No space left on device")
    files = [p for p in out.rglob("*") if p.is_file()]
    assert not [p for p in files if ".tmp-" in p.name], files
    audit = [json.loads(line) for line in (out / "deid_audit.jsonl").read_text().splitlines()]  # no torn record
    written = {rec["output"]: rec["output_sha256"] for rec in audit if rec.get("status") == "ok"}
    dcm = [p for p in files if p.suffix == ".dcm"]
    assert dcm, "the disk filled before any output: the test checks nothing"
    for p in dcm:  # every final name holds a whole file
        pydicom.dcmread(p).pixel_array
        rel = p.relative_to(out).as_posix()
        if rel in written:
            assert hashlib.sha256(p.read_bytes()).hexdigest() == written[rel], rel


def test_a_failed_checkpoint_on_sigterm_is_exit_1_not_75(nas, demo_data):
    mnt, faults, log = nas
    set_faults(faults, ["write *ckpt/.tmp-step-* enospc"])
    args = smoke_args(demo_data, mnt, "s", *STEPS, "--set", "run.max_steps=400", "--set", "run.epochs=200",
                      "--set", "checkpoint.every_steps=0", "--set", "checkpoint.max_failed_saves=1000")
    proc = subprocess.Popen([BIN, "train", *map(str, args)], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True)
    metrics = mnt / "s/metrics.jsonl"
    deadline = time.time() + 120
    while time.time() < deadline and (not metrics.exists() or metrics.read_text().count('"train"') < 2):
        time.sleep(0.2)
    proc.send_signal(signal.SIGTERM)
    out, err = proc.communicate(timeout=120)
    assert proc.returncode == 1, (out, err)
    assert injected_faults(log), "the fault never happened"
    lines = err.strip().splitlines()
    assert len(lines) == 1 and "(the final checkpoint)" in lines[0], err
    assert "the last intact checkpoint is none yet" in lines[0] and "No space left on device" in lines[0], lines
    assert not leftovers(mnt / "s/ckpt")
