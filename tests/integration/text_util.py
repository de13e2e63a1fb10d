"""Helpers of the text end-to-end tests: a tiny text run's arguments and a tiny
JSONL manifest of reports with labels and PHI spans."""
import json

from conftest import MINILM, SOURCE


def text_args(config, manifest, runs, name, *extra):
    """A few tiny steps of a text recipe: short texts, small batches."""
    return ["-c", SOURCE / "configs" / config, "--set", f"data.manifest={manifest}",
            "--set", f"model.pretrained={MINILM}", "--set", f"run.output_dir={runs}", "--set", f"run.name={name}",
            "--set", "optim.batch_size=4", "--set", "data.max_length=64", "--set", "data.workers=1",
            "--set", "log.tensorboard=false", "--set", "log.trace_steps=0", *extra]


def write_jsonl(path, rows):
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    return path


def tiny_manifest(tmp_path, **change):
    rows = [{"id": f"R{i}", "patient": f"P{i % 4}", "split": "val" if i % 4 == 3 else "train",
             "text": "Patient John Smith. No pneumothorax. Small effusion.", "labels": ["effusion"],
             "spans": [{"start": 8, "end": 18, "label": "NAME"}]} for i in range(8)]
    rows[2].update(change)
    return write_jsonl(tmp_path / "r.jsonl", rows)
