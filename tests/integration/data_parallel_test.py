"""N ranks train the same model as one process: with batch B per rank they
must end where one process ends with N-fold gradient accumulation (batch norm
sees B samples per forward in both), and with model.sync_bn they must end where
one process ends with batch N*B. Parameters are compared after two SGD steps
(momentum, constant lr): they differ only by float summation order, while a
wrong reference (gradients not averaged across ranks) is far off, so the
tolerance can tell. Longer runs are not compared: batch norm on 4 samples
amplifies rounding differences step after step. The accumulation runs use a
window wide enough that no pixel saturates: saturated pixels tie in max pooling, and a tie that a
1e-7 rounding difference breaks the other way sends a whole gradient elsewhere
(measured: 1e-7 after step 1, 7e-4 after step 2 with the smoke window, 3e-5
with this one). Without sync_bn the running statistics are rank 0's own (as in
PyTorch DDP) and are not compared."""
import json

import numpy as np
import pytest
from safetensors.numpy import load_file

from conftest import run, smoke_args
from mpi_util import MPIRUN, mpirun

pytestmark = pytest.mark.skipif(MPIRUN is None, reason="mpirun not installed (Debian openmpi-bin)")

STEPS = ["--set", "run.max_steps=2", "--set", "run.epochs=3", "--set", "checkpoint.every_steps=0",
         "--set", "run.eval_every_steps=0", "--set", "data.workers=1", "--set", "optim.name=sgd",
         "--set", "optim.lr=0.002", "--set", "schedule.name=constant", "--set", "schedule.warmup_steps=0"]
# For the accumulation comparisons (see above); sync_bn runs keep the smoke window.
UNSATURATED = ["--set", "data.window_center=1000", "--set", "data.window_width=5000"]
TOLERANCE = 2e-4


def weights(run_dir):
    return load_file(str(run_dir / "ckpt/latest/model.safetensors"))


def is_bn_statistic(key):
    return key.endswith(("running_mean", "running_var", "num_batches_tracked"))


def largest_difference(a, b, statistics=False):
    keys = [k for k in a if (statistics or not is_bn_statistic(k)) and a[k].dtype.kind == "f"]
    return max(float(np.max(np.abs(a[k].astype(np.float64) - b[k].astype(np.float64)))) for k in keys)


def assert_close(a, b, what, statistics=False):
    """Parameters (and with `statistics`, batch-norm running statistics too)."""
    assert a.keys() == b.keys()
    keys = [k for k in a if statistics or not is_bn_statistic(k)]
    worst = largest_difference(a, b, statistics)
    assert worst < TOLERANCE, f"{what}: largest parameter difference {worst}"
    for k in keys:
        if a[k].dtype.kind != "f":
            assert np.array_equal(a[k], b[k]), k


def single(demo, runs, name, batch, accum, *extra):
    r = run("train", *smoke_args(demo, runs, name, *STEPS, "--set", f"optim.batch_size={batch}",
                                 "--set", f"optim.grad_accum_steps={accum}", *extra))
    assert r.returncode == 0, r.stderr
    return weights(runs / name)


def ranks(n, demo, runs, name, batch, accum, *extra):
    r = mpirun(n, "train", *smoke_args(demo, runs, name, *STEPS, "--set", f"optim.batch_size={batch}",
                                       "--set", f"optim.grad_accum_steps={accum}", *extra))
    assert r.returncode == 0, r.stdout + r.stderr
    return weights(runs / name), r


@pytest.mark.parametrize("n", [2, 3])
def test_n_ranks_equal_one_process_with_n_fold_accumulation(tmp_path, demo_data, n):
    runs = tmp_path / "runs"
    got, r = ranks(n, demo_data, runs, "dp", 4, 1, *UNSATURATED)
    assert_close(got, single(demo_data, runs, "one", 4, n, *UNSATURATED), f"{n} ranks vs 1 process")
    assert f"4 x {n} samples" in r.stdout
    # What a reducer that did not average would give: one rank's batch alone.
    wrong = single(demo_data, runs, "alone", 4, 1, *UNSATURATED)
    assert largest_difference(got, wrong) > 20 * TOLERANCE


def test_accumulation_on_ranks_equals_more_accumulation_on_one(tmp_path, demo_data):
    runs = tmp_path / "runs"
    got, _ = ranks(2, demo_data, runs, "dp", 4, 2, *UNSATURATED)
    assert_close(got, single(demo_data, runs, "one", 4, 4, *UNSATURATED), "2 ranks x 2 micro-steps vs 1 process x 4")


@pytest.mark.parametrize("n", [2, 3])
def test_sync_bn_ranks_equal_one_process_with_n_times_the_batch(tmp_path, demo_data, n):
    runs = tmp_path / "runs"
    got, _ = ranks(n, demo_data, runs, "dp", 3, 1, "--set", "model.sync_bn=true")
    # Synced statistics are the whole batch's: running statistics agree as well.
    assert_close(got, single(demo_data, runs, "one", 3 * n, 1), f"{n} ranks with sync_bn vs batch x{n}",
                 statistics=True)


def test_only_rank_0_writes_and_every_rank_traces(tmp_path, demo_data):
    runs = tmp_path / "runs"
    _, r = ranks(2, demo_data, runs, "dp", 4, 1, "--set", "log.trace_steps=3", "--set", "run.max_steps=4")
    records = [json.loads(line) for line in (runs / "dp/metrics.jsonl").read_text().splitlines()]
    train = [x for x in records if x["kind"] == "train"]
    assert [x["step"] for x in train] == [1, 2, 3, 4], "one record per step: a second writer would duplicate"
    for key in ["time/forward", "time/backward", "time/comm_wait", "time/optimizer", "time/data_wait",
                "time/allreduce_hidden_fraction"]:
        assert key in train[-1], key
    for rank in (0, 1):
        events = json.loads((runs / f"dp/timeline-rank{rank}.json").read_text())
        names = {e["name"] for e in events if e.get("ph") == "X"}
        assert {"forward", "backward", "all-reduce", "optimizer"} <= names, names
        assert {e["args"]["step"] for e in events if e.get("ph") == "X"} == {1, 2, 3}
    assert len(list((runs / "dp/ckpt").glob("step-*"))) == 1
