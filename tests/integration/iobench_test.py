"""`medtrain iobench PATH`: storage measurements and accelerator sizing.

Checks are on structure and on facts the test knows independently (file
counts and sizes it wrote, MLPerf Storage's published workload figures, the
latency it configured on the emulated NAS), never on timings copied from a run.
Through nasfs the latency check is a lower bound: every file costs at least
one request of the configured latency."""
import json
import os

import pytest

from conftest import SOURCE, assert_user_error, run
from nasfs_mount import nas_mount, require_fuse

SMALL_FILES, SMALL_BYTES, BIG_BYTES = 40, 10_000, 6 << 20


@pytest.fixture(scope="module")
def dataset(tmp_path_factory):
    root = tmp_path_factory.mktemp("iobench_data")
    for i in range(SMALL_FILES):
        d = root / f"patient{i % 4}"
        d.mkdir(exist_ok=True)
        (d / f"img{i}.dcm").write_bytes(os.urandom(SMALL_BYTES))
    (root / "train-00000.shard").write_bytes(os.urandom(BIG_BYTES))
    return root


def iobench_json(*args):
    r = run("iobench", *map(str, args), "--json", timeout=120)
    assert r.returncode == 0, (r.stdout, r.stderr)
    return json.loads(r.stdout)


def test_json_fields_are_sane(dataset):
    j = iobench_json(dataset, "--seconds", 0.1, "--threads", 2)
    assert j["small_files_total"] == SMALL_FILES and j["large_files"] == 1
    for phase, threads in (("single", 1), ("parallel", 2)):
        s = j["small_files"][phase]
        assert s["threads"] == threads
        assert s["files"] >= 1 and s["iops"] > 0 and s["mb_per_s"] > 0
        assert 0 < s["p50_ms"] <= s["p99_ms"] <= s["max_ms"]
        assert s["mean_file_bytes"] == SMALL_BYTES  # every small file we wrote has this size
        q = j["sequential"][phase]
        assert q["threads"] == threads and q["files"] == 1
        assert q["bytes"] > 0 and q["mb_per_s"] > 0
        assert q["request_bytes"] == 4 << 20
        c = s["cached_fraction_before"]
        assert c is None or 0.0 <= c <= 1.0
    assert [w["name"] for w in j["workloads"]] == ["resnet50", "unet3d"]
    # MLPerf Storage H100 figures (mlcommons/storage configs/dlio/workload/*_h100.yaml):
    # 90% AU needs 0.9 * batch / computation_time samples/s per accelerator.
    figures = {"resnet50": (114660.07, 400, 0.224), "unet3d": (146600628, 7, 0.323)}
    for w in j["workloads"]:
        size, batch, compute_s = figures[w["name"]]
        assert w["sample_bytes"] == pytest.approx(size) and w["batch"] == batch
        assert w["need_samples_per_s"] == pytest.approx(0.9 * batch / compute_s, rel=1e-6)
        assert w["need_mb_per_s"] == pytest.approx(0.9 * batch / compute_s * size / 1e6, rel=1e-6)
        for access in ("small_files", "shards"):
            a = w[access]
            assert a["accelerators"] >= 0 and a["workers_needed"] >= 1
            assert 0 < a["au_one_accelerator"] <= 1 and a["rank_samples_per_s"] > 0
        assert w["advice"], w
    assert j["loader"]["workers"] == 2 and j["loader"]["source"] == "defaults"
    assert not j["network_fs"] and any("not a network file system" in n for n in j["notes"])


def test_flags_change_workload_and_loader(dataset):
    j = iobench_json(dataset, "--seconds", 0.05, "--threads", 1, "--workload", "custom", "--sample-kb", 50,
                     "--batch", 10, "--compute-ms", 100, "--workers", 3, "--prefetch", 1, "--drop-caches")
    assert [w["name"] for w in j["workloads"]] == ["custom"]
    w = j["workloads"][0]
    assert w["sample_bytes"] == 50_000 and w["batch"] == 10
    assert w["need_samples_per_s"] == pytest.approx(0.9 * 10 / 0.1)
    assert j["loader"]["workers"] == 3 and j["loader"]["prefetch_batches"] == 1
    assert j["small_files"]["parallel"] is None  # --threads 1: no parallel phase
    assert j["drop_caches"] and any("--drop-caches" in n for n in j["notes"])
    assert any("prefetch_batches >= 2" in a for a in w["advice"])


def test_table_is_the_default(dataset):
    r = run("iobench", dataset, "--seconds", 0.05, "--threads", 2, timeout=120)
    assert r.returncode == 0, r.stderr
    for needle in ("small files", "sequential", "resnet50", "unet3d", "accelerators", "data.workers=2"):
        assert needle in r.stdout, needle


def test_simulate_runs_the_loader(dataset):
    j = iobench_json(dataset, "--simulate", "--workload", "custom", "--sample-kb", 10, "--batch", 4,
                     "--compute-ms", 2, "--workers", 2, "--epochs", 2)
    files = SMALL_FILES + 1
    assert j["batches"] == 2 * (files // 4) and j["samples"] == 2 * (files // 4) * 4  # full batches only
    assert 0 < j["au"] <= 1 and len(j["epoch_au"]) == 2
    assert j["compute_s"] >= j["batches"] * 0.002 * 0.99  # sleeping is never shorter than asked
    assert j["wall_s"] >= j["compute_s"]


def test_latency_through_nasfs_is_at_least_the_configured_latency(dataset, tmp_path):
    require_fuse()
    latency_ms = 5.0
    with nas_mount(dataset, tmp_path / "nas", latency_ms=latency_ms):
        j = iobench_json(tmp_path / "nas", "--seconds", 0.2, "--threads", 2)
    assert j["fs_type"] == "fuse" and j["network_fs"]
    for phase in ("single", "parallel"):
        assert j["small_files"][phase]["p50_ms"] >= latency_ms, j["small_files"][phase]
    # nasfs caches nothing and cannot be mapped: residency is unknown, not 0.
    assert j["small_files"]["single"]["cached_fraction_before"] is None


def test_missing_path_is_named(tmp_path):
    missing = tmp_path / "no_such_dataset"
    assert_user_error(run("iobench", missing), "no_such_dataset", "does not exist")


def test_empty_folder_is_refused(tmp_path):
    (tmp_path / "empty").mkdir()
    (tmp_path / "empty" / "zero.bin").write_bytes(b"")
    assert_user_error(run("iobench", tmp_path / "empty"), "empty", "no non-empty files")


@pytest.mark.parametrize("args, needle", [
    (["--threads", "0"], "--threads"),
    (["--seconds", "fast"], "--seconds"),
    (["--workload", "bert"], "--workload"),
    (["--workload", "custom", "--batch", "4"], "--sample-kb"),
    (["--no-such-flag"], "--no-such-flag"),
])
def test_bad_flags_exit_2(dataset, args, needle):
    assert_user_error(run("iobench", dataset, *args), needle)


def test_simulate_with_too_few_files(dataset):
    assert_user_error(run("iobench", dataset, "--simulate", "--workload", "resnet50"), "fewer than one batch")


def test_loader_settings_come_from_the_config(dataset, tmp_path):
    cfg = tmp_path / "exp.yaml"
    cfg.write_text(f"base: {SOURCE / 'configs/smoke.yaml'}\ndata:\n  workers: 5\n  prefetch_batches: 3\n")
    j = iobench_json(dataset, "--seconds", 0.02, "--threads", 1, "-c", cfg)
    assert j["loader"] == {"workers": 5, "prefetch_batches": 3, "source": str(cfg)}
    j = iobench_json(dataset, "--seconds", 0.02, "--threads", 1, "-c", cfg, "--workers", 7)
    assert j["loader"]["workers"] == 7 and j["loader"]["prefetch_batches"] == 3
    assert_user_error(run("iobench", dataset, "-c", cfg, "--set", "data.workers=many"), "data.workers")


def test_simulate_the_experiment_pipeline(demo_data, tmp_path):
    """-c: the training split of the experiment, decoded as `train` reads it; PATH replaces data.root."""
    rows = (demo_data / "manifest.csv").read_text().splitlines()
    header = rows[0].split(",")
    train = sum(1 for r in rows[1:] if r.split(",")[header.index("split")] == "train")
    j = iobench_json(demo_data, "--simulate", "-c", SOURCE / "configs/smoke.yaml",
                     "--set", f"data.manifest={demo_data}/manifest.csv", "--set", "data.root=/nonexistent",
                     "--workload", "custom", "--sample-kb", 10, "--batch", 4, "--compute-ms", 1, "--epochs", 1)
    assert j["access"].startswith("DICOM tree via")
    assert j["batches"] == train // 4 and j["samples"] == (train // 4) * 4
    assert 0 < j["au"] <= 1


def test_simulate_shard_records_without_decoding(demo_data, tmp_path):
    """--records-only: every training record of the pack is read and checked, none decoded."""
    pack = tmp_path / "pack"
    r = run("pack", "--manifest", demo_data / "manifest.csv", "--out", pack, "--compress", "none")
    assert r.returncode == 0, r.stderr
    meta = json.loads((pack / "metadata.json").read_text())
    train = meta["records_per_split"]["train"]
    j = iobench_json(pack, "--simulate", "--records-only", "-c", SOURCE / "configs/smoke.yaml",
                     "--set", f"data.shards={pack}", "--workload", "custom", "--sample-kb", 10, "--batch", 4,
                     "--compute-ms", 1, "--epochs", 1)
    assert j["access"].endswith("records only (not decoded)")
    assert j["batches"] == train // 4 and j["samples"] == (train // 4) * 4
    # A flipped bit in a record is caught by the checksum even without decoding.
    shard = sorted(pack.glob("train-*.shard"))[0]
    data = bytearray(shard.read_bytes())
    data[200] ^= 0x10
    shard.write_bytes(bytes(data))
    bad = run("iobench", pack, "--simulate", "--records-only", "-c", SOURCE / "configs/smoke.yaml",
              "--set", f"data.shards={pack}", "--workload", "custom", "--sample-kb", 10, "--batch", 4,
              "--compute-ms", 1, "--json")
    assert bad.returncode != 0 and "train-00000.shard" in bad.stderr, bad.stderr
    assert_user_error(run("iobench", pack, "--simulate", "--records-only", "--workload", "custom",
                          "--sample-kb", 10, "--batch", 4, "--compute-ms", 1), "needs -c with data.shards")
