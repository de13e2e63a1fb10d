"""nasfs's fault injection, seen from a process reading and writing the mount:
each fault arrives as the errno (or the short file, or the delay) the rule
says, exactly when after=/count=/for= say, the control file can be flipped
mid-mount, a malformed one is ignored with a message, and the fault log lists
every injected fault. The parser and matcher alone are unit-tested in
tests/tools/nasfs/fault_rules_test.cpp.

The only timing here is a lower bound (a hang of H seconds cannot make a read
finish under H), plus one for= window (see test_for_window_ends_with_time)."""
import errno
import os
import time

import pytest

from nasfs_mount import injected_faults, nas_mount, require_fuse, set_faults

SIZES = {"a.bin": 20_000, "b.bin": 20_000, "c.bin": 100_000, "sub/d.bin": 4_000}


@pytest.fixture
def nas(tmp_path):
    """A source tree, its mount point, a control file (absent until set) and a fault log."""
    require_fuse()
    src = tmp_path / "src"
    for name, size in SIZES.items():
        p = src / name
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_bytes(bytes((i * 7 + len(name)) % 251 for i in range(size)))

    class Nas:
        pass

    n = Nas()
    n.src, n.mnt, n.faults, n.log = src, tmp_path / "mnt", tmp_path / "faults", tmp_path / "faults.log"
    return n


def mount(n, **kw):
    return nas_mount(n.src, n.mnt, latency_ms=0, faults=n.faults, fault_log=n.log, **kw)


def read_errno(path):
    """The errno of reading the whole file, or None if it read back complete and equal to the source."""
    try:
        data = path.read_bytes()
    except OSError as e:
        return e.errno
    return None if len(data) > 0 else "empty"


def read_once_errno(path):
    """The errno of one read(2) of a small file (one FUSE read request), or None."""
    try:
        with open(path, "rb", buffering=0) as f:
            f.read(1 << 16)
    except OSError as e:
        return e.errno
    return None


def test_eio_and_estale_from_open_and_read(nas):
    set_faults(nas.faults, ["open a.bin eio", "read b.bin estale", "open sub/* estale", "read c.bin eio"])
    with mount(nas):
        assert read_errno(nas.mnt / "a.bin") == errno.EIO
        assert read_errno(nas.mnt / "b.bin") == errno.ESTALE
        assert read_errno(nas.mnt / "sub/d.bin") == errno.ESTALE
        # The open succeeded: the error comes from the read itself.
        with open(nas.mnt / "c.bin", "rb") as f:
            with pytest.raises(OSError) as e:
                f.read(10)
            assert e.value.errno == errno.EIO
        assert os.stat(nas.mnt / "a.bin").st_size == SIZES["a.bin"]  # getattr is not hit
    got = injected_faults(nas.log)
    assert ("open", "a.bin", "eio") in got
    assert ("read", "b.bin", "estale") in got
    # The kernel retries an open that failed with ESTALE once (LOOKUP_REVAL), so two.
    assert got.count(("open", "sub/d.bin", "estale")) >= 2
    assert ("read", "c.bin", "eio") in got
    assert {op for op, _, _ in got} == {"open", "read"}


def test_estale_from_getattr(nas):
    set_faults(nas.faults, ["getattr a.bin estale"])
    with mount(nas):
        with pytest.raises(OSError) as e:
            os.stat(nas.mnt / "a.bin")
        assert e.value.errno == errno.ESTALE
        assert os.stat(nas.mnt / "b.bin").st_size == SIZES["b.bin"]
    assert ("getattr", "a.bin", "estale") in injected_faults(nas.log)


def test_short_read_ends_the_file_early_until_reopened(nas):
    set_faults(nas.faults, ["read c.bin short count=1"])
    whole = (nas.src / "c.bin").read_bytes()
    with mount(nas):
        first = (nas.mnt / "c.bin").read_bytes()
        assert 0 < len(first) < len(whole)
        assert first == whole[:len(first)]  # a prefix, not garbage
        assert (nas.mnt / "c.bin").read_bytes() == whole  # count=1 is spent: reopened, complete
    assert injected_faults(nas.log) == [("read", "c.bin", "short")]


def test_hang_delays_the_read_then_it_succeeds(nas):
    set_faults(nas.faults, ["read a.bin hang=1 count=1"])
    with mount(nas):
        t0 = time.monotonic()
        data = (nas.mnt / "a.bin").read_bytes()
        assert time.monotonic() - t0 >= 1.0
        assert data == (nas.src / "a.bin").read_bytes()
    assert injected_faults(nas.log) == [("read", "a.bin", "hang=1")]


def test_after_and_count_pick_which_requests_fail(nas):
    # One read(2) of a small file = one read request: after=1 lets the first
    # through, count=2 fails the next two, then the rule is spent.
    set_faults(nas.faults, ["read a.bin eio after=1 count=2"])
    with mount(nas):
        results = [read_once_errno(nas.mnt / "a.bin") for _ in range(5)]
    assert results == [None, errno.EIO, errno.EIO, None, None]
    assert injected_faults(nas.log) == [("read", "a.bin", "eio")] * 2


def test_prob_zero_never_fires_and_glob_limits_the_paths(nas):
    set_faults(nas.faults, ["read a.bin eio prob=0", "read sub/* eio"])
    with mount(nas):
        assert [read_errno(nas.mnt / "a.bin") for _ in range(5)] == [None] * 5
        assert read_errno(nas.mnt / "b.bin") is None
        assert read_errno(nas.mnt / "sub/d.bin") == errno.EIO
    assert injected_faults(nas.log) == [("read", "sub/d.bin", "eio")]


def test_for_window_ends_with_time(nas):
    # for= counts from the load, which happens at the first request after the
    # file changed: the read right after is inside 1 s; 1.2 s later it is not.
    with mount(nas):
        assert read_errno(nas.mnt / "a.bin") is None
        set_faults(nas.faults, ["read a.bin eio for=1"])
        assert read_errno(nas.mnt / "a.bin") == errno.EIO
        time.sleep(1.2)
        assert read_errno(nas.mnt / "a.bin") is None
    assert injected_faults(nas.log) == [("read", "a.bin", "eio")]


def test_control_file_flipped_mid_mount(nas):
    with mount(nas):  # no control file yet: no faults
        assert read_errno(nas.mnt / "a.bin") is None
        set_faults(nas.faults, ["read a.bin eio"])
        assert read_errno(nas.mnt / "a.bin") == errno.EIO
        assert read_errno(nas.mnt / "a.bin") == errno.EIO
        set_faults(nas.faults, ["read a.bin estale count=1"])  # counters start again
        assert read_errno(nas.mnt / "a.bin") == errno.ESTALE
        assert read_errno(nas.mnt / "a.bin") is None
        set_faults(nas.faults, [])
        assert read_errno(nas.mnt / "a.bin") is None
        nas.faults.unlink()
        assert read_errno(nas.mnt / "a.bin") is None
    assert [f for _, _, f in injected_faults(nas.log)] == ["eio", "eio", "estale"]


def test_malformed_control_file_is_ignored_whole_with_a_message(nas):
    set_faults(nas.faults, ["read a.bin eio", "read b.bin eio prob=2"])
    with mount(nas) as proc:
        assert read_errno(nas.mnt / "a.bin") is None  # line 1 is valid, but not applied
        set_faults(nas.faults, ["read a.bin eio"])  # fixed: applies at once
        assert read_errno(nas.mnt / "a.bin") == errno.EIO
    err = proc.stderr.read()
    assert f"nasfs: faults {nas.faults} line 2: prob= must be in [0, 1], got '2'" in err, err
    assert err.count("nasfs: faults") == 1, err
    assert injected_faults(nas.log) == [("read", "a.bin", "eio")]


def test_writable_passthrough(nas):
    with mount(nas, writable=True):
        (nas.mnt / "run/ckpt").mkdir(parents=True)
        (nas.mnt / "run/ckpt/w.tmp").write_bytes(b"x" * 300_000)
        os.rename(nas.mnt / "run/ckpt/w.tmp", nas.mnt / "run/ckpt/w.bin")
        with open(nas.mnt / "run/ckpt/w.bin", "r+b") as f:
            f.truncate(1000)
            os.fsync(f.fileno())
        os.symlink("w.bin", nas.mnt / "run/ckpt/latest")
        assert os.readlink(nas.mnt / "run/ckpt/latest") == "w.bin"
        os.chmod(nas.mnt / "run/ckpt/w.bin", 0o600)
        dir_fd = os.open(nas.mnt / "run/ckpt", os.O_RDONLY)  # a folder's handle reaches nasfs too
        try:
            os.fchmod(dir_fd, 0o750)
        finally:
            os.close(dir_fd)
        (nas.mnt / "a.bin").unlink()
        assert (nas.mnt / "run/ckpt/latest").read_bytes() == b"x" * 1000
        assert os.statvfs(nas.mnt).f_bsize > 0
    assert (nas.src / "run/ckpt/w.bin").read_bytes() == b"x" * 1000
    assert (nas.src / "run/ckpt/w.bin").stat().st_mode & 0o777 == 0o600
    assert (nas.src / "run/ckpt").stat().st_mode & 0o777 == 0o750
    assert not (nas.src / "run/ckpt/w.tmp").exists()
    assert not (nas.src / "a.bin").exists()


def test_enospc_on_write_and_faults_on_create_fsync_rename(nas):
    set_faults(nas.faults, ["write ckpt/* enospc", "create exp/a.tmp eio", "fsync exp/b.tmp eio",
                            "rename exp/c.tmp estale"])
    with mount(nas, writable=True):
        (nas.mnt / "ckpt").mkdir()
        (nas.mnt / "exp").mkdir()
        fd = os.open(nas.mnt / "ckpt/model.pt", os.O_WRONLY | os.O_CREAT, 0o644)
        try:
            with pytest.raises(OSError) as e:
                os.write(fd, b"weights" * 1000)
            assert e.value.errno == errno.ENOSPC
        finally:
            os.close(fd)
        with pytest.raises(OSError) as e:
            os.truncate(nas.mnt / "ckpt/model.pt", 10)  # truncate is OP write too
        assert e.value.errno == errno.ENOSPC
        with pytest.raises(OSError) as e:
            open(nas.mnt / "exp/a.tmp", "wb")
        assert e.value.errno == errno.EIO
        fd = os.open(nas.mnt / "exp/b.tmp", os.O_WRONLY | os.O_CREAT, 0o644)
        try:
            assert os.write(fd, b"ok") == 2
            with pytest.raises(OSError) as e:
                os.fsync(fd)
            assert e.value.errno == errno.EIO
        finally:
            os.close(fd)
        (nas.mnt / "exp/c.tmp").write_bytes(b"c")
        with pytest.raises(OSError) as e:
            os.rename(nas.mnt / "exp/c.tmp", nas.mnt / "exp/c")
        assert e.value.errno == errno.ESTALE
        (nas.mnt / "other.bin").write_bytes(b"fine")  # outside the globs: written
    assert (nas.src / "ckpt/model.pt").stat().st_size == 0
    assert (nas.src / "other.bin").read_bytes() == b"fine"
    assert not (nas.src / "exp/a.tmp").exists()
    got = injected_faults(nas.log)
    assert ("write", "ckpt/model.pt", "enospc") in got
    assert ("truncate", "ckpt/model.pt", "enospc") in got
    assert ("create", "exp/a.tmp", "eio") in got
    assert ("fsync", "exp/b.tmp", "eio") in got
    assert ("rename", "exp/c.tmp", "estale") in got


def test_read_only_without_writable_even_with_faults(nas):
    set_faults(nas.faults, [])
    with mount(nas):
        with pytest.raises(OSError) as e:
            open(nas.mnt / "new.bin", "wb")
        assert e.value.errno in (errno.EROFS, errno.EACCES)
    assert not (nas.src / "new.bin").exists()
