"""NumPy side of scripts/bench/logmel_vs_numpy.sh: faster-whisper's
FeatureExtractor (NumPy STFT, mel matmul, log10) on the first 30 s and 5 s of
one 16 kHz WAV, read once before timing.

  python logmel_numpy.py WAV --repetitions N [--check MEDTRAIN_30S.npy]

Two calls per length: `default` is FeatureExtractor()(audio), what
faster-whisper's transcribe computes (the clip's frames only, padding=160);
`openai` is FeatureExtractor()(audio, padding=480000)[:, :3000 * W], openai's
padding: the same [80, 3000 W] values medtrain's WhisperLogMel::windows returns
(log_mel.h, Note [Padding convention]). Each repetition times as many calls as
fit in 0.5 s (at least 3) and reports the mean; prints JSON
{"<kind>/<n>s": [seconds per call, one per repetition]}. --check compares
medtrain's dumped 30-s windows with `openai` first (exit 1 beyond 1e-4).
"""
import argparse
import json
import sys
import time
import wave

import numpy as np
from faster_whisper.feature_extractor import FeatureExtractor


def read_wav(path):
    with wave.open(path) as w:
        assert w.getframerate() == 16000 and w.getnchannels() == 1 and w.getsampwidth() == 2, path
        return np.frombuffer(w.readframes(w.getnframes()), "<i2").astype(np.float32) / 32768.0


def openai_windows(fe, x):
    n_windows = max(1, -(-(len(x) // 160) // 3000))
    return fe(x, padding=480000)[:, :3000 * n_windows]


def per_call(f, min_time=0.5):
    n, t0 = 0, time.perf_counter()
    while n < 3 or time.perf_counter() - t0 < min_time:
        f()
        n += 1
    return (time.perf_counter() - t0) / n


def main():
    p = argparse.ArgumentParser()
    p.add_argument("wav")
    p.add_argument("--repetitions", type=int, default=5)
    p.add_argument("--check")
    a = p.parse_args()
    fe = FeatureExtractor(feature_size=80)
    audio = read_wav(a.wav)
    if a.check:
        ours = np.load(a.check)  # [W, 80, 3000]
        ref = openai_windows(fe, audio[:30 * 16000])
        ref = ref.reshape(80, -1, 3000).transpose(1, 0, 2)
        err = float(np.abs(ours - ref).max()) if ours.shape == ref.shape else float("inf")
        print(f"medtrain vs NumPy (openai padding), 30 s: shapes {ours.shape} / {ref.shape}, max |diff| {err:.2e}",
              file=sys.stderr)
        if not err <= 1e-4:
            sys.exit("the two front ends do not compute the same features; no numbers")
    out = {}
    for seconds in (30, 5):
        x = audio[:seconds * 16000]
        out[f"default/{seconds}s"] = [per_call(lambda: fe(x)) for _ in range(a.repetitions)]
        out[f"openai/{seconds}s"] = [per_call(lambda: openai_windows(fe, x)) for _ in range(a.repetitions)]
    print(json.dumps(out))


if __name__ == "__main__":
    main()
