"""`medtrain demo-data --kind dictation` (issue 15): synthetic radiology
dictation spoken by espeak-ng. Every WAV is read back with Python's `wave`
(an independent decoder), one is compared byte for byte with espeak-ng run
directly, the manifest's speaker and patient splits are disjoint, the same seed
repeats the manifest byte for byte, and bad input is one line and exit 2."""
import json
import shutil
import subprocess
import wave
from pathlib import Path

import numpy as np
import pytest

from conftest import assert_user_error, run

pytestmark = pytest.mark.skipif(shutil.which("espeak-ng") is None,
                                reason="espeak-ng not installed (scripts/setup.sh installs it)")

# The speakers of data/audio/synthetic_dictation.cpp: voice, words per minute, pitch.
SPEAKERS = {
    "spk01": ("en-us+m1", 150, 45), "spk02": ("en-us+f2", 165, 55), "spk03": ("en-gb+m3", 140, 40),
    "spk04": ("en-gb+f1", 175, 60), "spk05": ("en-us+m5", 185, 50), "spk06": ("en-gb+m7", 130, 35),
    "spk07": ("en-us+f4", 160, 65), "spk08": ("en-gb+m2", 170, 48), "spk09": ("en-us+m6", 145, 42),
    "spk10": ("en-gb+f3", 155, 58),
}


def make(out, count=12, seed=7):
    r = run("demo-data", "--kind", "dictation", "--out", out, "--count", count, "--seed", seed)
    assert r.returncode == 0, r.stderr
    return r


def rows(out):
    return [json.loads(line) for line in (Path(out) / "dictation.jsonl").read_text().splitlines()]


@pytest.fixture(scope="module")
def dictation(tmp_path_factory):
    out = tmp_path_factory.mktemp("dictation")
    return out, make(out).stdout


def test_every_wav_decodes_to_speech(dictation):
    out, _ = dictation
    manifest = rows(out)
    assert len(manifest) == 12
    for row in manifest:
        assert set(row) == {"audio", "text", "speaker", "patient", "split"}, row
        assert row["audio"] == f"audio/{Path(row['audio']).stem}.wav" and (out / row["audio"]).is_file(), row
        assert 4 <= len(row["text"].split()) <= 25, row
        assert row["speaker"] in SPEAKERS and row["patient"].startswith("P"), row
        with wave.open(str(out / row["audio"])) as w:
            assert (w.getnchannels(), w.getsampwidth(), w.getframerate()) == (1, 2, 22050)
            seconds = w.getnframes() / w.getframerate()
            samples = np.frombuffer(w.readframes(w.getnframes()), dtype="<i2").astype(np.float64) / 32768
        assert 0.8 < seconds < 30, (row, seconds)
        assert np.sqrt(np.mean(samples ** 2)) > 0.01 and np.abs(samples).max() > 0.1, row  # not silence
    ids = [row["audio"] for row in manifest]
    assert ids[0] == "audio/u00001.wav" and len(set(ids)) == len(ids)


def test_audio_is_espeak_ng_with_the_speakers_voice(dictation, tmp_path):
    out, _ = dictation
    row = rows(out)[0]
    voice, wpm, pitch = SPEAKERS[row["speaker"]]
    subprocess.run(["espeak-ng", "-v", voice, "-s", str(wpm), "-p", str(pitch), "-w", str(tmp_path / "ref.wav"),
                    "--", row["text"]], check=True, capture_output=True)
    assert (tmp_path / "ref.wav").read_bytes() == (out / row["audio"]).read_bytes()


def test_splits_are_disjoint_by_speaker_and_patient(dictation):
    out, stdout = dictation
    manifest = rows(out)
    split = {s: [r for r in manifest if r["split"] == s] for s in ("train", "val")}
    assert len(split["train"]) + len(split["val"]) == 12 and split["val"], manifest
    speakers = {s: {r["speaker"] for r in split[s]} for s in split}
    patients = {s: {r["patient"] for r in split[s]} for s in split}
    assert not speakers["train"] & speakers["val"]
    assert not patients["train"] & patients["val"]
    # The summary line counts what the manifest holds.
    assert ("wrote 12 utterances" in stdout and f"train {len(split['train'])} utterances / "
            f"{len(speakers['train'])} speakers / {len(patients['train'])} patients, val {len(split['val'])} / "
            f"{len(speakers['val'])} / {len(patients['val'])}" in stdout), stdout
    total = sum(wave.open(str(out / r["audio"])).getnframes() / 22050 for r in manifest)
    assert f"({total:.1f} s of audio" in stdout, (total, stdout)


def test_the_same_seed_repeats_the_manifest(dictation, tmp_path):
    out, _ = dictation
    make(tmp_path / "again")
    assert (tmp_path / "again/dictation.jsonl").read_bytes() == (out / "dictation.jsonl").read_bytes()
    make(tmp_path / "other", seed=8)
    assert (tmp_path / "other/dictation.jsonl").read_bytes() != (out / "dictation.jsonl").read_bytes()


@pytest.mark.parametrize("args, needle", [
    (["--count", "0"], "--count"),
    (["--size", "64"], "--size is for --kind images"),
    (["--transfer-syntax", "rle"], "--transfer-syntax is for --kind images"),
    (["--patients", "4"], "--patients is not used by --kind dictation"),
])
def test_bad_options_are_one_line(tmp_path, args, needle):
    r = run("demo-data", "--kind", "dictation", "--out", tmp_path / "d", *args)
    assert r.returncode != 0
    assert len(r.stderr.strip().splitlines()) == 1, r.stderr
    assert needle in r.stderr, r.stderr
    assert not (tmp_path / "d/dictation.jsonl").exists()


def test_missing_espeak_ng_is_a_clear_error(tmp_path):
    empty = tmp_path / "bin"
    empty.mkdir()
    r = run("demo-data", "--kind", "dictation", "--out", tmp_path / "d", "--count", 2, env={"PATH": str(empty)})
    assert_user_error(r, "espeak-ng not found: install the Debian package espeak-ng (scripts/setup.sh does)")
    assert not (tmp_path / "d/dictation.jsonl").exists()
