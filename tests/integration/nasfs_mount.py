"""Mounting nasfs, the emulated NFS NAS (tests/tools/nasfs), from tests.

`nas_mount(src, mnt, latency_ms, bandwidth_mbps, faults, fault_log, writable)`
is a context manager that mounts, waits until the mount answers, yields the
nasfs process, and unmounts cleanly on exit (it checks that nasfs then exits;
its stderr can be read after). Tests call `require_fuse()` first: it skips with
the reason when FUSE or the nasfs binary is unavailable.

Faults: `faults` is the control file nasfs re-reads whenever it changes; write
it with `set_faults(path, rules)` (atomically) before or during the mount. Each
rule is `OP GLOB FAULT [after=N] [count=N] [prob=P] [for=SECONDS]` (see
tests/tools/nasfs/fault_rules.h). `injected_faults(fault_log)` lists what
nasfs really injected, so a test can check that the fault it meant happened."""
import contextlib
import os
import shutil
import subprocess
import time
import warnings
from pathlib import Path

import pytest

SOURCE = Path(os.environ.get("MEDTRAIN_SOURCE_DIR", Path(__file__).resolve().parents[2]))


def nasfs_binary():
    candidates = []
    if os.environ.get("MEDTRAIN_BUILD_DIR"):
        candidates.append(Path(os.environ["MEDTRAIN_BUILD_DIR"]) / "tests/tools/nasfs/nasfs")
    candidates += sorted(SOURCE.glob("build*/tests/tools/nasfs/nasfs"), key=lambda p: -p.stat().st_mtime)
    for c in candidates:
        if c.is_file() and os.access(c, os.X_OK):
            return c
    return None


def _skip(reason):
    # Also a warning: ctest runs `pytest -q`, which hides skip reasons but prints warnings.
    warnings.warn(f"skipped: {reason}", stacklevel=3)
    pytest.skip(reason)


def require_fuse():
    """Skips the calling test, saying why, when nasfs cannot be mounted here."""
    if not os.path.exists("/dev/fuse"):
        _skip("/dev/fuse is missing: FUSE is not available on this machine")
    if shutil.which("fusermount3") is None:
        _skip("fusermount3 is missing (Debian package fuse3)")
    if nasfs_binary() is None:
        _skip("nasfs is not built (target nasfs needs libfuse3-dev)")


def is_mounted(mnt):
    return subprocess.run(["mountpoint", "-q", str(mnt)]).returncode == 0


def set_faults(faults_path, rules):
    """Replaces the control file with `rules` (a list of rule strings; [] = no
    faults) as nasfs wants it: written beside it, then renamed over it."""
    faults_path = Path(faults_path)
    tmp = faults_path.with_name(faults_path.name + ".tmp")
    tmp.write_text("".join(f"{r}\n" for r in rules))
    os.replace(tmp, faults_path)


def injected_faults(fault_log_path):
    """The faults nasfs injected, in order: a list of (op, path, fault); [] if
    none was (or the log does not exist yet). Paths are relative to the mount
    root ("." for the root itself)."""
    try:
        lines = Path(fault_log_path).read_text().splitlines()
    except FileNotFoundError:
        return []
    out = []
    for line in lines:
        _ms, op, rest = line.split(" ", 2)
        path, fault = rest.rsplit(" ", 1)  # a path may hold spaces; a fault never does
        out.append((op, path, fault))
    return out


@contextlib.contextmanager
def nas_mount(src, mnt, latency_ms=1.0, bandwidth_mbps=0.0, faults=None, fault_log=None, writable=False,
              fault_seed=1):
    Path(mnt).mkdir(parents=True, exist_ok=True)
    cmd = [str(nasfs_binary()), str(src), str(mnt), f"--latency-ms={latency_ms}",
           f"--bandwidth-mbps={bandwidth_mbps}", "-f"]
    if writable:
        cmd.append("--writable")
    if faults is not None:
        cmd += [f"--faults={faults}", f"--fault-seed={fault_seed}"]
    if fault_log is not None:
        cmd.append(f"--fault-log={fault_log}")
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + 10
        while not is_mounted(mnt):
            if proc.poll() is not None:
                pytest.fail(f"nasfs exited before mounting: {proc.stderr.read()}")
            if time.monotonic() > deadline:
                pytest.fail("nasfs did not mount within 10 s")
            time.sleep(0.05)
        yield proc
    finally:
        if is_mounted(mnt):
            subprocess.run(["fusermount3", "-u", str(mnt)], check=False)
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
            pytest.fail("nasfs did not exit within 10 s of fusermount3 -u")
