#!/usr/bin/env bash
# De-identification throughput, medtrain deid vs the same de-identification in
# pydicom (scripts/bench/deid_pydicom.py, multiprocessing with the same number of
# workers) on the same demo slices. Checks first that both produce the same data
# sets, then alternates the two RUNS times and prints medians of files/s and MB/s
# (input bytes) and the ratio. Both hash inputs and outputs and write atomically
# only in medtrain's case (pydicom writes in place; medtrain's closing syncfs is its
# extra cost).
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
ours=() flush=() theirs=()
for i in $(seq "$RUNS"); do
  rm -rf "$work/ours" "$work/theirs"
  # medtrain ends with syncfs: start each side with nothing dirty, so neither pays
  # for flushing the other's output.
  sync
  "$BIN" deid --in "$IN" --out "$work/ours" --key-file "$work/key" --jobs "$JOBS" >/dev/null
  read -r total synced < <("$MEDTRAIN_PY" -c 'import json,sys; s=json.load(open(sys.argv[1])); print(s["seconds"], s["sync_seconds"])' \
    "$work/ours/deid_summary.json")
  ours+=("$total") flush+=("$synced")
  sync
  theirs+=("$("$MEDTRAIN_PY" "$MEDTRAIN_ROOT/scripts/bench/deid_pydicom.py" --in "$IN" --out "$work/theirs" \
    --key-file "$work/key" --jobs "$JOBS" | "$MEDTRAIN_PY" -c 'import json,sys; print(json.load(sys.stdin)["seconds"])')")
  echo "run $i: medtrain ${ours[-1]} s (of which syncfs ${flush[-1]} s), pydicom ${theirs[-1]} s"
done
"$MEDTRAIN_PY" - "$COUNT" "$bytes" "$JOBS" "${ours[*]}" "${flush[*]}" "${theirs[*]}" <<'PY'
import statistics, sys
n, size, jobs = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
total = [float(x) for x in sys.argv[4].split()]
synced = [float(x) for x in sys.argv[5].split()]
mo = statistics.median(total)
mp = statistics.median(t - s for t, s in zip(total, synced))
mt = statistics.median(float(x) for x in sys.argv[6].split())
print(f"deid {n} files, {size / 1e6:.1f} MB, {jobs} jobs (median of {len(total)}):")
print(f"  medtrain deid, outputs durable:      {n / mo:.1f} files/s, {size / 1e6 / mo:.1f} MB/s")
print(f"  medtrain deid, before the syncfs:    {n / mp:.1f} files/s, {size / 1e6 / mp:.1f} MB/s")
print(f"  pydicom (outputs left in page cache): {n / mt:.1f} files/s, {size / 1e6 / mt:.1f} MB/s")
print(f"  ratio, durable vs pydicom:          {mt / mo:.2f}x")
print(f"  ratio, same work as pydicom:        {mt / mp:.2f}x")
PY
