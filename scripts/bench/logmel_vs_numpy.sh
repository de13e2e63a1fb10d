#!/usr/bin/env bash
# Whisper log-mel front end, medtrain vs NumPy (CPU): WhisperLogMel::windows
# (build/bench/whisper_log_mel_bench, LibTorch ops) vs faster-whisper's NumPy
# FeatureExtractor (scripts/bench/logmel_numpy.py) on the first 30 s and 5 s of
# one espeak-ng dictation (16 kHz 16-bit WAV, made as
# transcribe_vs_faster_whisper.py makes it), in the same run, threads pinned
# equal: 1 thread (both on core 0, OMP/MKL/OpenBLAS at 1) and all cores
# (nproc intra-op threads for LibTorch, the BLAS threads of NumPy at nproc).
# First medtrain's 30-s windows are checked against NumPy with openai's padding
# (the same values; exits 1 beyond 1e-4). Each side: REPS repetitions of
# >= 0.5 s; medians. Two NumPy columns: FeatureExtractor()(audio), what
# faster-whisper's transcribe computes (the clip's frames only), and
# padding=480000 cut to whole 30-s windows, what medtrain computes (for 5 s of
# audio that is 3000 frames, not 500). Ratio = NumPy time / medtrain time.
# Take the build lock so no compile runs meanwhile (from the repository root):
#   flock /tmp/medtrain-build.lock cmake --build build -j2 --target whisper_log_mel_bench
#   flock /tmp/medtrain-build.lock bash scripts/bench/logmel_vs_numpy.sh
# Smoke run: REPS=1 flock /tmp/medtrain-build.lock bash scripts/bench/logmel_vs_numpy.sh
# env: REPS (5), WORK (/tmp/logmel_bench)
set -euo pipefail
source "$(dirname "$0")/../lib.sh"
REPS="${REPS:-5}" WORK="${WORK:-/tmp/logmel_bench}"
BENCH="$MEDTRAIN_BUILD/bench/whisper_log_mel_bench"
[ -x "$BENCH" ] || die "$BENCH not built (cmake --build $MEDTRAIN_BUILD --target whisper_log_mel_bench)"
ALL=$(nproc)
mkdir -p "$WORK"
WAV="$WORK/r0.wav"
if [ ! -f "$WAV" ]; then
  "$MEDTRAIN_PY" - "$MEDTRAIN_ROOT/scripts/bench" "$WORK" <<'PY'
import sys
from pathlib import Path
sys.path.insert(0, sys.argv[1])
from transcribe_vs_faster_whisper import dictation
_, seconds = dictation(Path(sys.argv[2]), 0, 45)
assert seconds >= 30, f"dictation is {seconds:.1f} s, 30 s needed"
PY
fi

for T in 1 "$ALL"; do
  if [ "$T" = 1 ]; then PIN=(taskset -c 0); else PIN=(); fi
  export OMP_NUM_THREADS="$T" MKL_NUM_THREADS="$T" OPENBLAS_NUM_THREADS="$T"
  CHECK=()  # the 1-thread round checks medtrain's features against NumPy's first
  [ "$T" = 1 ] && CHECK=(--check "$WORK/medtrain_30s.npy")
  BENCH_AUDIO="$WAV" BENCH_THREADS="$T" BENCH_DUMP="$WORK/medtrain_30s.npy" "${PIN[@]}" "$BENCH" \
    --benchmark_repetitions="$REPS" --benchmark_min_time=0.5 --benchmark_format=json >"$WORK/medtrain_$T.json" \
    2>"$WORK/medtrain_$T.log" || die "whisper_log_mel_bench failed (see $WORK/medtrain_$T.log)"
  "${PIN[@]}" "$MEDTRAIN_PY" "$MEDTRAIN_ROOT/scripts/bench/logmel_numpy.py" "$WAV" --repetitions "$REPS" \
    "${CHECK[@]}" >"$WORK/numpy_$T.json"
done

"$MEDTRAIN_PY" - "$WORK" "$ALL" <<'PY'
import json, statistics, sys
work, all_cores = sys.argv[1], sys.argv[2]
med = statistics.median
print("| threads | audio | medtrain ms | NumPy default ms | ratio | NumPy openai padding ms | ratio |")
print("|---|---|---|---|---|---|---|")
for t in sorted({"1", all_cores}, key=int):
    ours = {}
    for b in json.load(open(f"{work}/medtrain_{t}.json"))["benchmarks"]:
        if b.get("run_type") == "iteration":
            name = b["run_name"].removesuffix("/real_time")  # UseRealTime() adds it
            ours.setdefault(name, []).append(b["real_time"])  # ms (Unit kMillisecond)
    np_ = json.load(open(f"{work}/numpy_{t}.json"))
    for s in ("30s", "5s"):
        m = med(ours[f"windows/{s}"])
        d, o = med(np_[f"default/{s}"]) * 1e3, med(np_[f"openai/{s}"]) * 1e3
        print(f"| {t} | {s} | {m:.2f} | {d:.2f} | **{d / m:.2f}** | {o:.2f} | {o / m:.2f} |")
PY
