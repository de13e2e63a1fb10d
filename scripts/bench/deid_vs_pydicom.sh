#!/usr/bin/env bash
# De-identification throughput, medtrain deid vs the same de-identification in
# pydicom (scripts/bench/deid_pydicom.py, multiprocessing with the same number of
# workers) on the same demo slices. Checks first that both produce the same data
# sets, then alternates the two RUNS times and prints medians of files/s and MB/s
# (input bytes) and the ratio. Both hash inputs and outputs and write atomically
# only in medtrain's case (pydicom writes in place; fsync is medtrain's extra cost).
set -euo pipefail
source "$(dirname "$0")/../lib.sh"
COUNT="${COUNT:-2000}" RUNS="${RUNS:-3}" JOBS="${JOBS:-$(nproc)}" SIZE="${SIZE:-256}"
BIN="${MEDTRAIN_BIN:-$MEDTRAIN_BUILD/medtrain}"
[ -x "$BIN" ] || die "$BIN not built"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
# DEMO=DIR reuses slices made earlier by `medtrain demo-data --out DIR ...`.
DEMO="${DEMO:-$work/demo}"
[ -d "$DEMO" ] || "$BIN" demo-data --out "$DEMO" --count "$COUNT" --patients 40 --size "$SIZE" >/dev/null
IN="$DEMO/images"
[ -d "$IN" ] || IN="$DEMO"
COUNT="$(find "$IN" -name '*.dcm' | wc -l)"
head -c 32 /dev/urandom >"$work/key" && chmod 600 "$work/key"
"$BIN" deid --in "$IN" --out "$work/ours" --key-file "$work/key" --jobs "$JOBS" >/dev/null
"$MEDTRAIN_PY" "$MEDTRAIN_ROOT/scripts/bench/deid_pydicom.py" --in "$IN" --out "$work/theirs" \
  --key-file "$work/key" --jobs "$JOBS" >/dev/null
"$MEDTRAIN_PY" "$MEDTRAIN_ROOT/scripts/bench/deid_pydicom.py" --compare "$work/ours" "$work/theirs"
bytes="$(du -sb "$IN" | cut -f1)"
ours=() theirs=()
for i in $(seq "$RUNS"); do
  rm -rf "$work/ours" "$work/theirs"
  ours+=("$("$BIN" deid --in "$IN" --out "$work/ours" --key-file "$work/key" --jobs "$JOBS" >/dev/null &&
    "$MEDTRAIN_PY" -c 'import json,sys; print(json.load(open(sys.argv[1]))["seconds"])' "$work/ours/deid_summary.json")")
  theirs+=("$("$MEDTRAIN_PY" "$MEDTRAIN_ROOT/scripts/bench/deid_pydicom.py" --in "$IN" --out "$work/theirs" \
    --key-file "$work/key" --jobs "$JOBS" | "$MEDTRAIN_PY" -c 'import json,sys; print(json.load(sys.stdin)["seconds"])')")
  echo "run $i: medtrain ${ours[-1]} s, pydicom ${theirs[-1]} s"
done
"$MEDTRAIN_PY" - "$COUNT" "$bytes" "$JOBS" "${ours[*]}" "${theirs[*]}" <<'PY'
import statistics, sys
n, size, jobs = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
mo = statistics.median(float(x) for x in sys.argv[4].split())
mt = statistics.median(float(x) for x in sys.argv[5].split())
print(f"deid {n} files, {size / 1e6:.1f} MB, {jobs} jobs (median of {len(sys.argv[4].split())}):")
print(f"  medtrain deid: {n / mo:.1f} files/s, {size / 1e6 / mo:.1f} MB/s")
print(f"  pydicom:       {n / mt:.1f} files/s, {size / 1e6 / mt:.1f} MB/s")
print(f"  ratio (medtrain / pydicom): {mt / mo:.2f}x")
PY
