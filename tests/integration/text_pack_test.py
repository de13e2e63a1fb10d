"""`medtrain pack -c` of a text experiment (issue 14): synthetic reports
(`demo-data --kind reports`) packed into shards of token ids, then one epoch
trained from the shards, with length buckets, that matches the run from the
JSONL file loss for loss (the first step first); and the one-line refusals:
a pack that does not fit the config, a truncated shard, flags that are for
DICOM packs, a bad manifest line."""
import json
import struct
from pathlib import Path

import pytest

from conftest import MINILM, SOURCE, assert_user_error, needs_minilm, run
from shard_py import crc32c, read_index

pytestmark = needs_minilm


@pytest.fixture(scope="module")
def reports(tmp_path_factory):
    out = tmp_path_factory.mktemp("reports")
    r = run("demo-data", "--kind", "reports", "--out", out, "--count", 24, "--patients", 8, "--seed", 11)
    assert r.returncode == 0, r.stderr
    return out / "reports.jsonl"


def config_args(manifest, *extra, config="report_labels.yaml"):
    return ["-c", SOURCE / "configs" / config, "--set", f"data.manifest={manifest}",
            "--set", f"model.pretrained={MINILM}", "--set", "data.max_length=48", *extra]


def train_args(manifest, runs, name, *extra, config="report_labels.yaml"):
    return config_args(manifest, "--set", f"run.output_dir={runs}", "--set", f"run.name={name}",
                       "--set", "run.epochs=1", "--set", "optim.batch_size=4", "--set", "data.workers=1",
                       "--set", "data.length_buckets=2", "--set", "log.every_steps=1",
                       "--set", "log.tensorboard=false", "--set", "log.trace_steps=0", *extra, config=config)


def losses(run_dir):
    rows = [json.loads(line) for line in (Path(run_dir) / "metrics.jsonl").read_text().splitlines()]
    return {r["step"]: r["loss"] for r in rows if r.get("kind") == "train"}


@pytest.fixture(scope="module")
def packed(reports, tmp_path_factory):
    out = tmp_path_factory.mktemp("pack") / "reports.pack"
    r = run("pack", *config_args(reports), "--out", out)
    assert r.returncode == 0, r.stderr
    assert "packed 24 reports" in r.stdout, r.stdout
    return out


def test_pack_records_what_the_tokens_depend_on(packed, reports):
    meta = json.loads((packed / "metadata.json").read_text())
    assert meta["complete"] and meta["target"] == "text"
    assert meta["text"]["max_length"] == 48 and meta["text"]["target"] == "multilabel"
    assert meta["text"]["tokenizer_file"] == "tokenizer.json"
    import hashlib
    assert meta["text"]["tokenizer_sha256"] == hashlib.sha256((MINILM / "tokenizer.json").read_bytes()).hexdigest()
    assert meta["manifest_sha256"] == hashlib.sha256(reports.read_bytes()).hexdigest()
    rows = [json.loads(line) for line in reports.read_text().splitlines() if line.strip()]
    assert sum(meta["records_per_split"].values()) == len(rows)
    assert meta["patient_split"] == {r["patient"]: r["split"] for r in rows}
    # verify-shards reads text records too.
    v = run("verify-shards", packed)
    assert v.returncode == 0, v.stderr


def read_text_record(rec):
    """data/text/text_record.h, read from its comment alone."""
    assert rec[:8] == b"MTTEXT01"
    id_n, pat_n, split_n, n_ids, n_target, spans_cut, bad_utf8, truncated, line = \
        struct.unpack_from("<IIIIIIIB3xQ", rec, 8)
    at = 48
    strings = []
    for n in (id_n, pat_n, split_n):
        strings.append(rec[at:at + n].decode())
        at += n
    ids = list(struct.unpack_from(f"<{n_ids}i", rec, at))
    target = list(struct.unpack_from(f"<{n_target}i", rec, at + 4 * n_ids))
    assert at + 4 * (n_ids + n_target) == len(rec)
    return dict(id=strings[0], patient=strings[1], split=strings[2], line=line, ids=ids, target=target,
                truncated=bool(truncated))


def test_records_hold_what_hf_tokenizers_and_the_manifest_say(packed, reports):
    """Every record against an independent reference: HF `tokenizers` with the
    model's tokenizer.json (truncated at 48) and the manifest row's findings."""
    from tokenizers import Tokenizer
    tok = Tokenizer.from_file(str(MINILM / "tokenizer.json"))
    tok.no_padding()
    tok.enable_truncation(48)
    rows = {}
    for n, line in enumerate(reports.read_text().splitlines(), start=1):
        if line.strip():
            rows[json.loads(line)["id"]] = (n, json.loads(line))
    findings = ["pneumothorax", "effusion", "consolidation", "cardiomegaly", "nodule"]
    meta = json.loads((packed / "metadata.json").read_text())
    seen, cut = [], 0
    for info in meta["shards"]:
        data = (packed / info["file"]).read_bytes()
        for offset, length, crc, _label in read_index(data):
            rec = data[offset:offset + length]
            assert crc32c(rec) == crc
            r = read_text_record(rec)
            line, row = rows[r["id"]]
            assert (r["patient"], r["split"], r["line"]) == (row["patient"], row["split"], line) == \
                (row["patient"], info["split"], line)
            enc = tok.encode(row["text"])
            assert r["ids"] == enc.ids, r["id"]
            assert r["truncated"] == (len(tok.encode(row["text"], add_special_tokens=True).overflowing) > 0)
            assert r["target"] == [int(f in row["labels"]) for f in findings]
            seen.append(r["id"])
            cut += r["truncated"]
    assert sorted(seen) == sorted(rows)
    assert cut > 0  # some reports are longer than 48 tokens: truncation was exercised


def test_one_epoch_from_shards_matches_the_jsonl_run(tmp_path, reports, packed):
    jsonl = run("train", *train_args(reports, tmp_path, "jsonl"))
    assert jsonl.returncode == 0, jsonl.stderr
    shards = run("train", *train_args(reports, tmp_path, "shards", "--set", f"data.shards={packed}"))
    assert shards.returncode == 0, shards.stderr
    a, b = losses(tmp_path / "jsonl"), losses(tmp_path / "shards")
    assert len(a) >= 3 and set(a) == set(b), (a, b)
    assert b[1] == pytest.approx(a[1], rel=1e-6, abs=1e-7), (a[1], b[1])
    for step in a:
        assert b[step] == pytest.approx(a[step], rel=1e-6, abs=1e-7), (step, a, b)


def test_a_pack_that_does_not_fit_the_config_is_refused(tmp_path, reports, packed):
    r = run("train", *train_args(reports, tmp_path, "bad", "--set", f"data.shards={packed}",
                                 "--set", "data.max_length=32"))
    assert_user_error(r, "data.max_length 48", "the config has 32", "medtrain pack -c")
    r = run("train", *train_args(reports, tmp_path, "bad", "--set", f"data.shards={packed}",
                                 "--set", "data.label_names=[pneumothorax,effusion,consolidation,cardiomegaly,mass]"))
    assert_user_error(r, "nodule]", "mass]")
    r = run("train", *train_args(reports, tmp_path, "bad", "--set", f"data.shards={packed}", config="phi_tagger.yaml"))
    assert_user_error(r, "data.shards")


def test_a_truncated_shard_is_refused_naming_it(tmp_path, reports, packed):
    copy = tmp_path / "copy"
    copy.mkdir()
    for f in packed.iterdir():
        (copy / f.name).write_bytes(f.read_bytes())
    shard = sorted(copy.glob("train-*.shard"))[0]
    shard.write_bytes(shard.read_bytes()[:-50])
    r = run("train", *train_args(reports, tmp_path, "bad", "--set", f"data.shards={copy}"))
    assert_user_error(r, shard.name)


def test_pack_flag_mistakes_are_one_line(tmp_path, reports):
    out = tmp_path / "p"
    assert_user_error(run("pack", *config_args(reports), "--out", out, "--target", "multilabel"),
                      "--target is for DICOM")
    assert_user_error(run("pack", *config_args(reports), "--out", out, "--on-error", "skip"),
                      "--on-error skip", "JSONL")
    assert_user_error(run("pack", "-c", SOURCE / "configs" / "quickstart.yaml", "--out", out), "data.dataset text",
                      "--manifest")
    assert_user_error(run("pack", "--out", out), "--manifest is required")


def test_a_bad_manifest_line_stops_the_pack_naming_it(tmp_path, reports):
    bad = tmp_path / "bad.jsonl"
    lines = reports.read_text().splitlines()
    row = json.loads(lines[4])
    row["labels"] = ["fracture"]
    lines[4] = json.dumps(row)
    bad.write_text("\n".join(lines) + "\n")
    out = tmp_path / "p"
    r = run("pack", *config_args(bad), "--out", out)
    assert_user_error(r, "bad.jsonl:5", "fracture")
    assert not (out / "metadata.json").exists()
