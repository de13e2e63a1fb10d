"""What happens when a rank dies, is stopped, or disagrees: the job ends
with a message that names the rank instead of hanging, a stop request on any
rank stops all ranks after the same step with a checkpoint, and resuming
reaches the weights of an uninterrupted run (also on another number of
ranks when the global batch is kept)."""
import os
import signal
import subprocess
import time

import numpy as np
import pytest
from safetensors.numpy import load_file

from conftest import BIN, run, smoke_args
from mpi_util import MPIRUN, mpi_env, mpirun, popen

pytestmark = pytest.mark.skipif(MPIRUN is None, reason="mpirun not installed (Debian openmpi-bin)")

TIMEOUT_S = 20


def long_run(demo, runs, name, *extra):
    return smoke_args(demo, runs, name, "--set", "run.max_steps=400", "--set", "run.epochs=200",
                      "--set", "checkpoint.every_steps=2", "--set", "run.eval_every_steps=0",
                      "--set", f"dist.timeout_s={TIMEOUT_S}", "--set", "optim.batch_size=4", *extra)


def rank_pids(mpirun_pid):
    """The medtrain processes mpirun started, in rank order (by OMPI_COMM_WORLD_RANK)."""
    out = subprocess.run(["pgrep", "-P", str(mpirun_pid)], capture_output=True, text=True).stdout.split()
    ranks = {}
    for pid in out:
        try:
            env = open(f"/proc/{pid}/environ", "rb").read().split(b"\0")
        except OSError:
            continue
        for item in env:
            if item.startswith(b"OMPI_COMM_WORLD_RANK="):
                ranks[int(item.split(b"=")[1])] = int(pid)
    return [ranks[r] for r in sorted(ranks)]


def wait_for_steps(runs, name, steps, proc, limit=180):
    metrics = runs / name / "metrics.jsonl"
    deadline = time.time() + limit
    while time.time() < deadline and proc.poll() is None:
        if metrics.exists() and metrics.read_text().count('"train"') >= steps:
            return
        time.sleep(0.2)
    raise AssertionError(f"{name}: fewer than {steps} steps logged")


def signal_rank_mid_run(demo, runs, name, sig, limit_s, after_steps=3, *extra):
    """Starts 2 ranks, sends `sig` to rank 1 once `after_steps` steps are
    logged, and waits at most `limit_s` for the whole job to end. Returns
    (returncode, stdout, stderr); the job is killed if it outlives the test."""
    proc = popen(2, "train", *long_run(demo, runs, name, *extra))
    try:
        wait_for_steps(runs, name, after_steps, proc)
        pids = rank_pids(proc.pid)
        assert len(pids) == 2, pids
        os.kill(pids[1], sig)
        start = time.time()
        out, err = proc.communicate(timeout=limit_s)
        assert time.time() - start < limit_s
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
    return proc.returncode, out, err


def test_killed_rank_ends_the_job_naming_it(tmp_path, demo_data):
    code, out, err = signal_rank_mid_run(demo_data, tmp_path / "runs", "kill", signal.SIGKILL, TIMEOUT_S + 10)
    assert code != 0
    assert "rank 1" in out + err, (out + err)[-2000:]


def test_stuck_rank_times_out_with_step_rank_and_host(tmp_path, demo_data):
    # SIGSTOP: alive but silent, so only a timeout can notice.
    code, _, err = signal_rank_mid_run(demo_data, tmp_path / "runs", "stuck", signal.SIGSTOP, TIMEOUT_S + 30)
    assert code != 0
    assert "rank 0" in err and "dist.timeout_s" in err and "step" in err, err[-2000:]


def test_sigterm_on_one_rank_stops_all_with_a_checkpoint(tmp_path, demo_data):
    runs = tmp_path / "runs"
    code, out, err = signal_rank_mid_run(demo_data, runs, "term", signal.SIGTERM, 120, 2,
                                         "--set", "checkpoint.every_steps=0")
    assert code == 75, (code, out[-2000:], err[-2000:])
    assert "stopping after step" in out
    latest = (runs / "term/ckpt/latest").resolve()
    assert (latest / "manifest.json").exists()
    assert 2 <= int(latest.name.split("-")[1]) < 400


def fixed_run(demo, runs, name, steps, *extra):
    return smoke_args(demo, runs, name, "--set", f"run.max_steps={steps}", "--set", "run.epochs=10",
                      "--set", "checkpoint.every_steps=3", "--set", "run.eval_every_steps=3",
                      "--set", "checkpoint.keep_last=10", *extra)


def test_resume_after_a_crash_reaches_the_uninterrupted_weights(tmp_path, demo_data):
    runs = tmp_path / "runs"
    full = mpirun(2, "train", *fixed_run(demo_data, runs, "full", 9, "--set", "optim.batch_size=4"))
    assert full.returncode == 0, full.stderr
    part = mpirun(2, "train", *fixed_run(demo_data, runs, "part", 3, "--set", "optim.batch_size=4"))
    assert part.returncode == 0, part.stderr
    resumed = mpirun(2, "train", *fixed_run(demo_data, runs, "part", 9, "--set", "optim.batch_size=4"),
                     "--resume", "auto")
    assert resumed.returncode == 0, resumed.stderr
    a = load_file(str(runs / "full/ckpt/step-00000009/model.safetensors"))
    b = load_file(str(runs / "part/ckpt/step-00000009/model.safetensors"))
    for k in a:
        assert np.array_equal(a[k], b[k]), k


def test_resume_on_another_number_of_ranks_keeps_the_global_batch(tmp_path, demo_data):
    runs = tmp_path / "runs"
    # SGD with a small constant lr, parameters only: batch norm sees other
    # micro-batches after the switch (4 samples per forward on both sides here,
    # but its running statistics are updated twice per step instead of once),
    # and AdamW would turn rounding differences into sign flips.
    sgd = ["--set", "optim.batch_size=4", "--set", "optim.name=sgd", "--set", "optim.lr=0.002",
           "--set", "schedule.name=constant", "--set", "schedule.warmup_steps=0"]
    full = mpirun(2, "train", *fixed_run(demo_data, runs, "full", 6, *sgd))
    assert full.returncode == 0, full.stderr
    part = mpirun(2, "train", *fixed_run(demo_data, runs, "part", 3, *sgd))
    assert part.returncode == 0, part.stderr
    # One rank, two micro-steps of 4: the same 8 samples per step, in the same blocks.
    one = run("train", *fixed_run(demo_data, runs, "part", 6, *sgd, "--set", "optim.grad_accum_steps=2"),
              "--resume", "auto")
    assert one.returncode == 0, one.stderr
    assert "resuming 2 ranks' checkpoint on 1 ranks" in one.stdout
    a = load_file(str(runs / "full/ckpt/step-00000006/model.safetensors"))
    b = load_file(str(runs / "part/ckpt/step-00000006/model.safetensors"))
    params = [k for k in a if not k.endswith(("running_mean", "running_var", "num_batches_tracked"))]
    worst = max(float(np.max(np.abs(a[k].astype(np.float64) - b[k].astype(np.float64)))) for k in params)
    assert worst < 2e-4, worst
    bad = run("train", *fixed_run(demo_data, runs, "part", 9, *sgd), "--resume", "auto")
    assert bad.returncode == 2
    assert "global batch of 8" in bad.stderr and "keep the global batch" in bad.stderr


def test_ranks_with_different_configs_fail_fast(tmp_path, demo_data):
    runs = tmp_path / "runs"
    args = [str(a) for a in fixed_run(demo_data, runs, "mix", 3)]
    argv = [MPIRUN, "--bind-to", "none", "-np", "1", BIN, "train", *args, ":",
            "-np", "1", BIN, "train", *args, "--set", "optim.lr=0.5"]
    r = subprocess.run(argv, capture_output=True, text=True, timeout=300, env=mpi_env())
    assert r.returncode == 2, (r.returncode, r.stderr[-2000:])
    assert "rank 1 resolved another config than rank 0" in r.stderr
