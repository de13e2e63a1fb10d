#!/usr/bin/env bash
# medtrain vs pydicom+numpy: decode + preprocess samples/s on one core, per
# transfer syntax, on 512x512 12-bit CT-like slices and 32-bit ones (tests/data/dicom_corpus.py).
# Prints a table with the median of REPS runs of each side and the ratio
# (goal: >= 3x per core).
#   scripts/bench/dicom_decode_vs_pydicom.sh [BUILD_DIR] [REPS]
# BUILD_DIR (default build) must hold bench/dicom_decode_bench (Google Benchmark).
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
BUILD=${1:-$ROOT/build}
REPS=${2:-5}
PY=${MEDTRAIN_PYTHON:-$ROOT/.venv/bin/python}
BENCH="$BUILD/bench/dicom_decode_bench"
[ -x "$BENCH" ] || { echo "missing $BENCH: cmake --build $BUILD --target dicom_decode_bench" >&2; exit 2; }
export OMP_NUM_THREADS=1 MKL_NUM_THREADS=1

DIR="$BUILD/bench_dicom"
# u32 / s32: 32-bit stored values (unsigned with a fractional rescale: the double path; signed).
FILES=${MEDTRAIN_BENCH_FILES:-ct12_explicit.dcm,ct12_implicit.dcm,ct12_bigendian.dcm,ct12_deflate.dcm,ct12_rle.dcm,ct12_jpeg_lossless.dcm,ct12_jpeg_lossless_sv6.dcm,ct12_jpeg_extended.dcm,ct12_jpegls.dcm,ct12_jpegls_near.dcm,ct12_j2k.dcm,ct12_j2k_lossy.dcm,rgb_jpeg_baseline.dcm,u32.dcm,s32.dcm,u32_rle.dcm}
for f in ${FILES//,/ }; do  # (re)write the corpus when a file is missing (an older corpus)
  if [ ! -f "$DIR/$f" ]; then
    "$PY" "$ROOT/tests/data/dicom_corpus.py" "$DIR" --size 512x512 >/dev/null
    break
  fi
done

MEDTRAIN_BENCH_DICOM_DIR="$DIR" MEDTRAIN_BENCH_FILES="$FILES" taskset -c 0 "$BENCH" \
  --benchmark_repetitions="$REPS" --benchmark_min_time=0.5 --benchmark_format=json >"$DIR/medtrain.json" 2>/dev/null
taskset -c 0 "$PY" "$ROOT/scripts/bench/dicom_decode_pydicom.py" "$DIR" "$FILES" --repetitions "$REPS" \
  >"$DIR/pydicom.json"

"$PY" - "$DIR/medtrain.json" "$DIR/pydicom.json" <<'PYEOF'
import json, statistics, sys
ours = {}
for b in json.load(open(sys.argv[1]))["benchmarks"]:
    if b.get("run_type") == "iteration":
        ours.setdefault(b["run_name"], []).append(b["samples_per_s"])
theirs = json.load(open(sys.argv[2]))
print(f"{'file':28} {'medtrain/s':>11} {'pydicom/s':>10} {'ratio':>6}")
ratios = []
for name, rates in theirs.items():
    m, p = statistics.median(ours[name]), statistics.median(rates)
    ratios.append(m / p)
    print(f"{name:28} {m:11.1f} {p:10.1f} {m / p:6.2f}")
print(f"median ratio {statistics.median(ratios):.2f}x, min {min(ratios):.2f}x (goal >= 3x per core)")
PYEOF
