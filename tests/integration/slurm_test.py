"""The sbatch scripts, submitted for real to a one-node Slurm cluster on this
machine: srun --mpi=pmix and mpirun inside the allocation both train on two
ranks and log into the run directory; a USR1 before the time limit stops the
job with a checkpoint, the script requeues it, and the requeued job resumes
and finishes."""
import os
import subprocess
import time

import pytest

from conftest import BIN, SOURCE, smoke_args
from slurm_cluster import SlurmCluster, unavailable_reason

REASON = unavailable_reason()
pytestmark = pytest.mark.skipif(REASON is not None, reason=REASON or "")


@pytest.fixture(scope="module")
def cluster(tmp_path_factory):
    c = SlurmCluster(tmp_path_factory.mktemp("slurm"))
    try:
        c.start()
    except Exception as e:  # noqa: BLE001 - report the daemons' own logs
        c.stop()
        pytest.fail(f"could not start the test cluster: {e}\n{c.logs()}")
    yield c
    c.stop()


def sbatch(cluster, script, args, *flags, wait=True):
    env = dict(cluster.env, MEDTRAIN=os.path.abspath(BIN), MEDTRAIN_ROOT=str(SOURCE))
    argv = ["sbatch", "--parsable", "--ntasks-per-node=2", "--chdir", str(cluster.root), *flags]
    if wait:
        argv.append("--wait")
    argv += [str(SOURCE / "scripts/slurm" / script), *map(str, args)]
    return subprocess.run(argv, capture_output=True, text=True, env=env, timeout=600)


@pytest.mark.parametrize("script", ["train.sbatch", "train_mpirun.sbatch"])
def test_sbatch_trains_on_two_ranks(cluster, tmp_path, demo_data, script):
    runs = tmp_path / "runs"
    args = smoke_args(demo_data, runs, "slurm", "--set", "optim.batch_size=4")[2:]  # drop "-c FILE"
    r = sbatch(cluster, script, [SOURCE / "configs/smoke.yaml", *args])
    logs = "".join(p.read_text() for p in (runs / "slurm").glob("launch-*.log")) if (runs / "slurm").exists() else ""
    assert r.returncode == 0, r.stdout + r.stderr + logs + cluster.logs()
    assert "x 2 samples" in logs or "2 ranks" in logs or "done:" in logs, logs
    assert (runs / "slurm/ckpt/latest/manifest.json").exists()
    assert "exit 0" in logs


def test_usr1_before_the_limit_requeues_and_resumes(cluster, tmp_path, demo_data):
    runs = tmp_path / "runs"
    args = smoke_args(demo_data, runs, "requeue", "--set", "optim.batch_size=4", "--set", "run.max_steps=40",
                      "--set", "run.epochs=40", "--set", "checkpoint.every_steps=0",
                      "--set", "run.eval_every_steps=0")[2:]
    r = sbatch(cluster, "train.sbatch", [SOURCE / "configs/smoke.yaml", *args], wait=False)
    assert r.returncode == 0, r.stderr
    job = r.stdout.strip().split(";")[0]
    metrics = runs / "requeue/metrics.jsonl"
    deadline = time.time() + 180
    while time.time() < deadline and (not metrics.exists() or metrics.read_text().count('"train"') < 3):
        time.sleep(0.5)
    # What --signal=USR1@120 does before the time limit: USR1 to every task of the step.
    subprocess.run(["scancel", "--signal=USR1", job], check=True, env=cluster.env)
    deadline = time.time() + 400
    log_text = ""
    while time.time() < deadline:
        logs = sorted((runs / "requeue").glob("launch-*.log"))
        log_text = "".join(p.read_text() for p in logs)
        if log_text.count("exit 0") >= 1 and "requeueing" in log_text:
            break
        time.sleep(1)
    assert "requeueing job" in log_text, log_text + cluster.logs()
    assert "resumed from" in log_text, log_text
    assert "exit 0" in log_text, log_text
    assert (runs / "requeue/ckpt/step-00000040").is_dir()
