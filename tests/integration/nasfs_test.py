"""nasfs, the emulated NFS NAS: a faithful read-only passthrough that charges a
latency per request and shares one bandwidth cap among all readers.

Timing checks here are lower bounds only (a slow, busy machine can only make
reads slower), and they are properties of the emulator: with latency L every
file read costs at least one request, so N reads cannot finish under N*L."""
import hashlib
import os
import subprocess
import threading
import time

import pytest

from nasfs_mount import is_mounted, nas_mount, nasfs_binary, require_fuse


def write_tree(root, seed=7):
    """A few files of varied sizes (one spanning many FUSE requests), nested."""
    rng = __import__("random").Random(seed)
    files = {}
    sizes = {"a.bin": 0, "b.bin": 1, "c.bin": 4097, "sub/d.bin": 115_000, "sub/deeper/e.bin": 3_000_001}
    for name, size in sizes.items():
        p = root / name
        p.parent.mkdir(parents=True, exist_ok=True)
        data = rng.randbytes(size)
        p.write_bytes(data)
        files[name] = hashlib.sha256(data).hexdigest()
    return files


def test_reads_are_byte_identical(tmp_path):
    require_fuse()
    src, mnt = tmp_path / "src", tmp_path / "mnt"
    expected = write_tree(src)
    with nas_mount(src, mnt, latency_ms=0.2):
        seen = {str(p.relative_to(mnt)) for p in mnt.rglob("*") if p.is_file()}
        assert seen == set(expected)
        for name, digest in expected.items():
            assert hashlib.sha256((mnt / name).read_bytes()).hexdigest() == digest, name
        # Reads at odd offsets and sizes: the bytes of the source at the same place.
        with open(mnt / "sub/deeper/e.bin", "rb") as f, open(src / "sub/deeper/e.bin", "rb") as ref:
            for off, n in [(1, 10), (131071, 3), (2_999_990, 100), (5_000_000, 8)]:
                f.seek(off)
                ref.seek(off)
                assert f.read(n) == ref.read(n), off
        assert os.stat(mnt / "c.bin").st_size == 4097


def test_writes_are_refused(tmp_path):
    require_fuse()
    src, mnt = tmp_path / "src", tmp_path / "mnt"
    write_tree(src)
    with nas_mount(src, mnt, latency_ms=0):
        with pytest.raises(OSError) as e:
            open(mnt / "a.bin", "wb")
        assert e.value.errno in (30, 13), e.value  # EROFS (or EACCES from the ro mount)
        with pytest.raises(OSError):
            open(mnt / "new.bin", "wb")
    assert not (src / "new.bin").exists()


def test_every_read_pays_latency_even_when_repeated(tmp_path):
    require_fuse()
    src, mnt = tmp_path / "src", tmp_path / "mnt"
    src.mkdir()
    n, latency_ms = 8, 25.0
    for i in range(n):
        (src / f"s{i}.bin").write_bytes(bytes([i]) * 1000)
    with nas_mount(src, mnt, latency_ms=latency_ms):
        for rep in range(2):  # the second pass must not be served from a cache
            t0 = time.monotonic()
            for i in range(n):
                assert (mnt / f"s{i}.bin").read_bytes() == bytes([i]) * 1000
            elapsed = time.monotonic() - t0
            assert elapsed >= n * latency_ms / 1000, (rep, elapsed)


def test_bandwidth_cap_is_shared_by_parallel_readers(tmp_path):
    require_fuse()
    src, mnt = tmp_path / "src", tmp_path / "mnt"
    src.mkdir()
    mb = 1_000_000
    for i in range(2):
        (src / f"big{i}.bin").write_bytes(os.urandom(2 * mb))
    bw_mbps = 20.0
    with nas_mount(src, mnt, latency_ms=0, bandwidth_mbps=bw_mbps):
        def read(i, out):
            out[i] = len((mnt / f"big{i}.bin").read_bytes())
        got = {}
        t0 = time.monotonic()
        threads = [threading.Thread(target=read, args=(i, got)) for i in range(2)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        elapsed = time.monotonic() - t0
    assert got == {0: 2 * mb, 1: 2 * mb}
    # 4 MB over one 20 MB/s link: >= 0.2 s, however many readers share it.
    assert elapsed >= 4 * mb / (bw_mbps * mb), elapsed


def test_unmount_is_clean(tmp_path):
    require_fuse()
    src, mnt = tmp_path / "src", tmp_path / "mnt"
    write_tree(src)
    with nas_mount(src, mnt, latency_ms=0) as proc:
        assert is_mounted(mnt)
    assert proc.returncode == 0, proc.stderr.read()
    assert not is_mounted(mnt)
    assert not any(mnt.iterdir())  # the mount point is an empty folder again


def test_bad_source_is_named(tmp_path):
    require_fuse()
    missing = tmp_path / "no_such_folder"
    r = subprocess.run([str(nasfs_binary()), str(missing), str(tmp_path), "-f"],
                       capture_output=True, text=True, timeout=20)
    assert r.returncode == 2, (r.returncode, r.stderr)
    assert "no_such_folder" in r.stderr and "does not exist" in r.stderr
    r = subprocess.run([str(nasfs_binary()), str(tmp_path), str(tmp_path), "--latency-ms=-1", "-f"],
                       capture_output=True, text=True, timeout=20)
    assert r.returncode == 2 and "--latency-ms" in r.stderr, r.stderr
