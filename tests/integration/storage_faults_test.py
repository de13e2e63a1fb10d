"""Training when the NAS fails (issue 17, item 2; docs/training.md, "Storage
faults"): two ranks read the demo DICOM files from nasfs with faults injected.

- a few EIO / ESTALE / short reads are read again: the run finishes, the
  retries are counted in metrics.jsonl, and the weights equal those of a
  fault-free run bitwise (the fault log proves the faults happened);
- a file that fails for ever stops the run with one line naming it
  (data.on_error: fail), or is skipped and counted (skip);
- a read that hangs (30 s) past data.read_timeout_s (2 s) ends the job with
  the file and the rank named, both ranks gone, long before the hang ends.

The only timing is an upper bound far from the expected value: the hang test's
job must end well inside the 30 s the read hangs (it takes ~2.5 s)."""
import csv
import json
import os
import subprocess
import time

import numpy as np
import pytest
from safetensors.numpy import load_file

from conftest import run, smoke_args
from mpi_util import MPIRUN, mpirun, popen
from nasfs_mount import injected_faults, nas_mount, require_fuse, set_faults

pytestmark = pytest.mark.skipif(MPIRUN is None, reason="mpirun not installed (Debian openmpi-bin)")

HANG_S = 30


@pytest.fixture
def nas(tmp_path, demo_data):
    """demo_data served by nasfs: mount point, control file, fault log; and a
    file of the training split (only the training loader reads it)."""
    require_fuse()

    class Nas:
        pass

    n = Nas()
    n.src, n.mnt, n.faults, n.log = demo_data, tmp_path / "mnt", tmp_path / "faults", tmp_path / "faults.log"
    with open(demo_data / "manifest.csv", newline="") as f:
        n.train_file = next(row["path"] for row in csv.DictReader(f) if row["split"] == "train")
    return n


def mounted(n):
    return nas_mount(n.src, n.mnt, latency_ms=0, faults=n.faults, fault_log=n.log)


def train_args(data, runs, name, *extra):
    # No mid-run eval: the val split is read by the evaluator's loader, whose
    # retries are not in the training counts.
    return smoke_args(data, runs, name, "--set", "run.eval_every_steps=0",
                      "--set", "data.read_retry_backoff_ms=10", *extra)


def last_train_record(runs, name):
    lines = (runs / name / "metrics.jsonl").read_text().splitlines()
    return [json.loads(line) for line in lines if '"kind":"train"' in line.replace(" ", "")][-1]


def assert_same_weights(a, b):
    for name in ("model.safetensors", "optimizer.safetensors"):
        ta, tb = load_file(str(a / name)), load_file(str(b / name))
        assert ta.keys() == tb.keys()
        for k in ta:
            assert np.array_equal(ta[k], tb[k]), (name, k)


def error_line(stderr):
    lines = [line for line in stderr.splitlines() if line.startswith("medtrain: error: ")]
    assert len(lines) == 1, stderr[-3000:]
    return lines[0]


def test_transient_faults_are_retried_and_the_weights_match(tmp_path, demo_data, nas):
    runs = tmp_path / "runs"
    clean = mpirun(2, "train", *train_args(demo_data, runs, "clean"), timeout=120)
    assert clean.returncode == 0, clean.stderr[-3000:]
    # ESTALE on open: the VFS retries a lookup once by itself, so two in a row
    # reach medtrain as one. A short read ends that open handle early.
    set_faults(nas.faults, ["read *.dcm eio after=5 count=3", "open *.dcm estale after=10 count=2",
                            "read *.dcm short after=20 count=2"])
    with mounted(nas):
        r = mpirun(2, "train", *train_args(nas.mnt, runs, "faults"), timeout=120)
    assert r.returncode == 0, r.stderr[-3000:]
    injected = injected_faults(nas.log)
    assert {fault for _op, _path, fault in injected} == {"eio", "estale", "short"}, injected
    record = last_train_record(runs, "faults")
    assert 1 <= record["read_retries"] <= len(injected), (record, injected)
    assert record["read_skipped"] == 0
    assert last_train_record(runs, "clean")["read_retries"] == 0
    assert_same_weights(runs / "clean/ckpt/latest", runs / "faults/ckpt/latest")


def test_a_file_that_fails_for_ever_stops_the_run_naming_it(tmp_path, nas):
    runs = tmp_path / "runs"
    set_faults(nas.faults, [f"read {nas.train_file} eio"])
    with mounted(nas):
        r = mpirun(2, "train", *train_args(nas.mnt, runs, "fail", "--set", "data.read_retries=2"), timeout=120)
    assert r.returncode != 0
    line = error_line(r.stderr)
    for needle in ("rank ", nas.train_file, "Input/output error", "data.read_retries = 2"):
        assert needle in line, (needle, line)
    # The read and its 2 retries, each at least one request that failed.
    assert len([f for f in injected_faults(nas.log) if f == ("read", nas.train_file, "eio")]) >= 3


def test_a_file_that_fails_for_ever_is_skipped_and_counted(tmp_path, nas):
    runs = tmp_path / "runs"
    set_faults(nas.faults, [f"read {nas.train_file} eio"])
    with mounted(nas):
        r = mpirun(2, "train", *train_args(nas.mnt, runs, "skip", "--set", "data.read_retries=1",
                                           "--set", "data.on_error=skip"), timeout=120)
    assert r.returncode == 0, r.stderr[-3000:]
    record = last_train_record(runs, "skip")
    assert record["read_skipped"] >= 1, record
    assert record["read_retries"] == record["read_skipped"], record  # one retry per failed read
    assert injected_faults(nas.log), "no fault was injected"


@pytest.fixture(scope="module")
def packed(demo_data, tmp_path_factory):
    out = tmp_path_factory.mktemp("faults_packed") / "shards"
    r = run("pack", "--manifest", demo_data / "manifest.csv", "--out", out, "--shard-mb", "0.05", "--workers", 2)
    assert r.returncode == 0, r.stderr
    return out


def test_shard_reads_are_retried_with_a_new_descriptor(tmp_path, demo_data, packed):
    """Shards stay open for the whole run: after ESTALE or a short read (which
    ends that open handle early on nasfs, as on a confused client) only a new
    descriptor reads the block."""
    require_fuse()
    runs, faults, log = tmp_path / "runs", tmp_path / "faults", tmp_path / "faults.log"
    # Each rank opens each train shard with 3 reads (footer, index, magic) before
    # training; faults start after those, on the block reads.
    opening = 3 * 2 * len(list(packed.glob("train-*.shard")))
    set_faults(faults, [f"read shards/train-* eio after={opening} count=1",
                        f"read shards/train-* estale after={opening + 2} count=1",
                        f"read shards/train-* short after={opening + 4} count=1"])
    with nas_mount(packed.parent, tmp_path / "mnt", latency_ms=0, faults=faults, fault_log=log):
        r = mpirun(2, "train", *train_args(demo_data, runs, "shards", "--set", f"data.shards={tmp_path}/mnt/shards",
                                           "--set", "data.shuffle_buffer=8"), timeout=120)
    assert r.returncode == 0, r.stderr[-3000:]
    assert "data.shards: 0 bad records" in r.stdout, r.stdout[-2000:]
    injected = injected_faults(log)
    assert {fault for _op, _path, fault in injected} == {"eio", "estale", "short"}, injected
    record = last_train_record(runs, "shards")
    # A fault met by the read-ahead thread is read again by the worker, uncounted.
    assert 1 <= record["read_retries"] <= 3 and record["read_skipped"] == 0, record


def rank_pids(mpirun_pid, limit_s=30):
    """The 2 medtrain processes mpirun started, once both exist."""
    deadline = time.time() + limit_s
    while time.time() < deadline:
        out = subprocess.run(["pgrep", "-P", str(mpirun_pid), "-f", "medtrain"], capture_output=True,
                             text=True).stdout.split()
        if len(out) == 2:
            return [int(p) for p in out]
        time.sleep(0.1)
    raise AssertionError("mpirun did not start 2 ranks")


def running(pid):
    """Neither gone, nor a zombie, nor killed: a rank killed while its read is
    held by a hung NAS stays in the kernel (a zombie, or with SIGKILL pending)
    until the NAS answers, but it runs no more code."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            if f.read().rsplit(")", 1)[1].split()[0] in ("Z", "X"):
                return False
        with open(f"/proc/{pid}/status") as f:
            pending = [int(line.split()[1], 16) for line in f if line.startswith(("SigPnd:", "ShdPnd:"))]
        return not any(mask & (1 << (9 - 1)) for mask in pending)  # SIGKILL = 9
    except (FileNotFoundError, ProcessLookupError):
        return False


def test_a_hung_read_ends_the_job_naming_the_file(tmp_path, nas):
    runs = tmp_path / "runs"
    set_faults(nas.faults, [f"read *.dcm hang={HANG_S} after=30 count=1"])
    with mounted(nas) as nasfs:
        proc = popen(2, "train", *train_args(nas.mnt, runs, "hang", "--set", "data.read_timeout_s=2"))
        try:
            pids = rank_pids(proc.pid)
            _out, err = proc.communicate(timeout=HANG_S)
            ended = time.time()
            deadline = ended + 10  # mpirun may return while its kills land
            while any(running(p) for p in pids) and time.time() < deadline:
                time.sleep(0.1)
            still_running = [p for p in pids if running(p)]
        finally:
            if proc.poll() is None:
                os.killpg(proc.pid, 9)
            # End the hang: the NAS goes away, its pending request fails, and the
            # mount (still held by the dead rank's file until then) is detached
            # lazily, so that nothing is left behind however fast that happens.
            nasfs.kill()
            nasfs.wait()
            subprocess.run(["fusermount3", "-u", "-z", str(nas.mnt)], check=False)
    hung = [(path, fault) for op, path, fault in injected_faults(nas.log) if fault.startswith("hang")]
    assert len(hung) == 1, hung
    hang_began = int(nas.log.read_text().split()[0]) / 1000
    assert ended - hang_began < HANG_S / 2, "the job waited for the hung read"
    assert proc.returncode != 0
    line = error_line(err)
    for needle in ("rank ", hung[0][0], "data.read_timeout_s = 2 s"):
        assert needle in line, (needle, line)
    assert not still_running, (pids, still_running)
