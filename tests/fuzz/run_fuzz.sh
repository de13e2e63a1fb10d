#!/usr/bin/env bash
# Builds the DICOM reader fuzzer (clang + libFuzzer + ASan/UBSan) and runs it for
# a bounded time from a seed corpus of every transfer syntax we decode.
#   tests/fuzz/run_fuzz.sh [SECONDS]        (default 60)
# Environment: FUZZ_BUILD (default build-fuzz), CXX_FUZZ (default clang++-14),
# MEDTRAIN_PYTHON (default .venv/bin/python; writes the seeds), FUZZ_JOBS (1).
# Exit status: 0 when no crash was found; libFuzzer's non-zero status otherwise,
# with the crashing input in $FUZZ_BUILD/artifacts/ (reproduce:
# $FUZZ_BUILD/dicom_reader_fuzz $FUZZ_BUILD/artifacts/crash-...).
set -euo pipefail
SECONDS_TO_RUN=${1:-60}
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
BUILD=${FUZZ_BUILD:-$ROOT/build-fuzz}
CXX_FUZZ=${CXX_FUZZ:-clang++-14}
PY=${MEDTRAIN_PYTHON:-$ROOT/.venv/bin/python}

command -v "$CXX_FUZZ" >/dev/null || { echo "run_fuzz.sh: $CXX_FUZZ not found (Debian: clang-14 libclang-rt-14-dev)" >&2; exit 2; }
cmake -S "$ROOT/tests/fuzz" -B "$BUILD" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo \
      -DCMAKE_CXX_COMPILER="$CXX_FUZZ" -DMEDTRAIN_FUZZ=ON >/dev/null
cmake --build "$BUILD" -j"${FUZZ_JOBS:-2}"

# Seeds: one small file per transfer syntax and layout, plus pydicom's bundled
# real-world files; libFuzzer mutates from there. Large files only slow it down.
SEEDS="$BUILD/seeds"
if [ ! -d "$SEEDS" ]; then
  "$PY" "$ROOT/tests/data/dicom_corpus.py" "$BUILD/seed_src" --bundled >/dev/null
  mkdir -p "$SEEDS"
  find "$BUILD/seed_src" -name '*.dcm' -size -64k -exec cp {} "$SEEDS/" \;
fi
mkdir -p "$BUILD/corpus" "$BUILD/artifacts"
# -rss_limit_mb: the decoder refuses headers promising absurd sizes long before
# this; -timeout: one input taking 10 s is a hang. The growing corpus is kept in
# $BUILD/corpus so later runs start where this one stopped.
"$BUILD/dicom_reader_fuzz" "$BUILD/corpus" "$SEEDS" \
  -max_total_time="$SECONDS_TO_RUN" -timeout=10 -rss_limit_mb=2048 -max_len=65536 \
  -artifact_prefix="$BUILD/artifacts/" -print_final_stats=1 2>&1 | tail -n 25
exit "${PIPESTATUS[0]}"
