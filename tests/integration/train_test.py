"""End to end: `medtrain train` on synthetic DICOM writes what a user expects,
and its TensorBoard files are read by TensorBoard's own reader."""
import json

import pytest

from safetensors.numpy import load_file
from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

from conftest import SOURCE, run, smoke_args


def train_once(tmp_path, demo_data):
    runs = tmp_path / "runs"
    r = run("train", *smoke_args(demo_data, runs))
    assert r.returncode == 0, r.stderr
    return runs / "smoke", r


def test_run_directory_has_config_metrics_events_and_checkpoints(tmp_path, demo_data):
    run_dir, result = train_once(tmp_path, demo_data)
    assert "step 6/6" in result.stdout
    assert "done: 6 steps" in result.stdout

    resolved = (run_dir / "config.yaml").read_text()
    assert "name: smoke" in resolved and "image_size: 32" in resolved

    records = [json.loads(line) for line in (run_dir / "metrics.jsonl").read_text().splitlines()]
    train = [r for r in records if r["kind"] == "train"]
    evals = [r for r in records if r["kind"] == "eval"]
    assert [r["step"] for r in train] == [1, 2, 3, 4, 5, 6]
    for r in train:
        assert {"loss", "lr", "samples_per_s", "data_wait_fraction", "au", "epoch"} <= r.keys()
        assert 0 <= r["data_wait_fraction"] <= 1
        assert r["au"] == pytest.approx(1 - r["data_wait_fraction"])
    assert [r["step"] for r in evals] == [3, 6]
    assert 0 <= evals[-1]["val/accuracy"] <= 1

    ckpts = sorted(p.name for p in (run_dir / "ckpt").glob("step-*"))
    assert ckpts == ["step-00000003", "step-00000006"]
    assert (run_dir / "ckpt/latest").resolve().name == "step-00000006"
    weights = load_file(str(run_dir / "ckpt/latest/model.safetensors"))
    assert weights["fc.weight"].shape == (2, 512)


def test_tensorboard_reads_our_event_files(tmp_path, demo_data):
    run_dir, _ = train_once(tmp_path, demo_data)
    acc = EventAccumulator(str(run_dir / "tensorboard"), size_guidance={"scalars": 0})
    acc.Reload()
    tags = acc.Tags()["scalars"]
    assert {"train/loss", "train/lr", "train/au", "val/auroc", "val/accuracy"} <= set(tags)
    losses = acc.Scalars("train/loss")
    assert [e.step for e in losses] == [1, 2, 3, 4, 5, 6]
    records = [json.loads(line) for line in (run_dir / "metrics.jsonl").read_text().splitlines()]
    jsonl_loss = {r["step"]: r["loss"] for r in records if r["kind"] == "train"}
    for e in losses:
        assert abs(e.value - jsonl_loss[e.step]) <= 1e-6 * max(1.0, abs(e.value))


def test_eval_command_reproduces_the_final_evaluation(tmp_path, demo_data):
    run_dir, _ = train_once(tmp_path, demo_data)
    r = run("eval", "-c", SOURCE / "configs/smoke.yaml", "--set", f"data.root={demo_data}",
            "--set", f"data.manifest={demo_data}/manifest.csv", "--set", f"run.output_dir={run_dir.parent}",
            "--json")
    assert r.returncode == 0, r.stderr
    metrics = json.loads(r.stdout)
    records = [json.loads(line) for line in (run_dir / "metrics.jsonl").read_text().splitlines()]
    last_eval = [x for x in records if x["kind"] == "eval"][-1]
    assert abs(metrics["val/loss"] - last_eval["val/loss"]) < 1e-5
    assert metrics["val/accuracy"] == last_eval["val/accuracy"]


def test_models_lists_torchvision_parameter_counts():
    import torchvision
    r = run("models")
    assert r.returncode == 0, r.stderr
    for name in ("resnet18", "resnet50", "efficientnet_b0", "convnext_tiny"):
        expected = sum(p.numel() for p in getattr(torchvision.models, name)().parameters())
        line = next(l for l in r.stdout.splitlines() if l.startswith(name + " "))
        assert f"{expected / 1e6:.1f}M" in line, line
