"""scripts/soak.sh, short: 2 ranks train from nasfs under random transient
faults with SIGTERM/resume cycles and end bitwise equal to a fault-free run
(the long soak is the same script with more minutes). And the soak can fail:
with no read retries, a fault either stops the run (data.on_error fail) or
loses samples (skip), and the soak says so and exits 1."""
import os
import re
import subprocess

import pytest

from mpi_util import MPIRUN, MPI_ENV
from nasfs_mount import nasfs_binary, require_fuse

from conftest import BIN, SOURCE

pytestmark = pytest.mark.skipif(MPIRUN is None, reason="mpirun not installed (Debian openmpi-bin)")


def soak(tmp_path, minutes="1", **env):
    require_fuse()
    full_env = dict(os.environ, **MPI_ENV, MEDTRAIN_BIN=str(BIN), NASFS_BIN=str(nasfs_binary()),
                    SOAK_DIR=str(tmp_path / "soak"), **env)
    r = subprocess.run([str(SOURCE / "scripts/soak.sh"), minutes], capture_output=True, text=True,
                       env=full_env, timeout=600)
    return r, r.stdout + r.stderr


def field(out, name):
    m = re.search(rf"^  {name}:\s+(\d+)", out, re.M)
    assert m, (name, out[-3000:])
    return int(m.group(1))


def test_short_soak_survives_faults_and_resumes_bitwise(tmp_path):
    r, out = soak(tmp_path, SOAK_STEPS="12", SOAK_TERM_EVERY="4")
    assert r.returncode == 0, out[-3000:]
    assert "soak: PASSED" in out
    assert "bitwise equal to the fault-free run" in out
    assert "bytes lost:       0" in out
    assert field(out, "faults injected") > 0
    assert field(out, "skipped samples") == 0
    m = re.search(r"(\d+) SIGTERM/resume cycles", out)
    assert m and int(m.group(1)) >= 1, out[-3000:]
    # The summary's count is the fault log's.
    log = (tmp_path / "soak/faults.log").read_text().splitlines()
    assert field(out, "faults injected") == len(log)
    assert all(line.split()[2].endswith(".dcm") for line in log)


def test_soak_fails_when_a_read_error_stops_the_run(tmp_path):
    r, out = soak(tmp_path, SOAK_STEPS="12", SOAK_TERM_EVERY="0", SOAK_FAULTS="read *.dcm eio prob=0.2",
                  SOAK_SET="data.read_retries=0")
    assert r.returncode == 1, out[-3000:]
    assert "soak: FAILED: training exited" in out, out[-3000:]
    # medtrain's one-line error (the log's tail is shown) names the file and the retries.
    assert re.search(r"medtrain: error: .*\.dcm: .*after data\.read_retries = 0 retries", out), out[-3000:]


def test_soak_fails_when_samples_are_skipped(tmp_path):
    # One training file that never reads: skipped every epoch (one sample
    # short of a batch of 4), so the weights cannot match the fault-free run's.
    r, out = soak(tmp_path, SOAK_STEPS="8", SOAK_TERM_EVERY="0", SOAK_FAULTS="read images/P0003/slice_003.dcm eio",
                  SOAK_SET="data.read_retries=0 data.on_error=skip")
    assert r.returncode == 1, out[-3000:]
    assert field(out, "skipped samples") > 0
    assert "soak: FAILED" in out
    assert "differs" in out, out[-3000:]
    assert "bytes lost:       0" not in out
