"""Mounting nasfs, the emulated NFS NAS (tests/tools/nasfs), from tests.

`nas_mount(src, mnt, latency_ms, bandwidth_mbps)` is a context manager that
mounts, waits until the mount answers, and unmounts cleanly on exit (it checks
that nasfs then exits 0). Tests call `require_fuse()` first: it skips with the
reason when FUSE or the nasfs binary is unavailable."""
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


@contextlib.contextmanager
def nas_mount(src, mnt, latency_ms=1.0, bandwidth_mbps=0.0):
    Path(mnt).mkdir(parents=True, exist_ok=True)
    proc = subprocess.Popen([str(nasfs_binary()), str(src), str(mnt), f"--latency-ms={latency_ms}",
                             f"--bandwidth-mbps={bandwidth_mbps}", "-f"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
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
