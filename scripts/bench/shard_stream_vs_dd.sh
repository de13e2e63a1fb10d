#!/usr/bin/env bash
# Shard streaming throughput of the reader (`medtrain verify-shards --no-sha256
# --no-decode`: blocks of consecutive records, one pread each, every CRC32C
# checked) against `dd bs=4M` of the same files: the ratio says how close the
# reader comes to what the storage delivers. Median of 3 runs each.
#   scripts/bench/shard_stream_vs_dd.sh [SHARD_DIR]
# Without SHARD_DIR it makes one: demo-data (COUNT images, default 2000, 256x256)
# packed with zstd off, in $BENCH_DIR (default /tmp/medtrain_shard_bench).
# Page cache: dropped before every run when /proc/sys/vm/drop_caches is
# writable (root); otherwise both sides read warm from the page cache, which
# measures CPU cost (CRC + syscalls) rather than the disk - the script says so.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
BIN=${MEDTRAIN_BIN:-$ROOT/build/medtrain}
DIR=${1:-}
if [ -z "$DIR" ]; then
  BENCH=${BENCH_DIR:-/tmp/medtrain_shard_bench}
  DIR=$BENCH/shards
  if [ ! -f "$DIR/metadata.json" ]; then
    "$BIN" demo-data --out "$BENCH/dicom" --count "${COUNT:-2000}" --size 256 >/dev/null
    "$BIN" pack --manifest "$BENCH/dicom/manifest.csv" --out "$DIR" --compress none >/dev/null
  fi
fi
drop() {
  if [ -w /proc/sys/vm/drop_caches ]; then sync; echo 3 > /proc/sys/vm/drop_caches; return 0; fi
  return 1
}
if drop; then COLD="cold (page cache dropped before each run)"; else COLD="WARM (cannot drop the page cache without root: CPU-bound numbers)"; fi
BYTES=$(cat "$DIR"/*.shard | wc -c)
median() { sort -g | sed -n 2p; }
dd_runs=(); reader_runs=()
for i in 1 2 3; do
  drop || true
  t0=$(date +%s.%N)
  for f in "$DIR"/*.shard; do dd if="$f" of=/dev/null bs=4M status=none; done
  t1=$(date +%s.%N)
  dd_runs+=("$(printf '%.1f' "$(echo "$BYTES / 1048576 / ($t1 - $t0)" | bc -l)")")
  drop || true
  out=$("$BIN" verify-shards --dir "$DIR" --no-sha256 --no-decode)
  reader_runs+=("$(echo "$out" | sed -n 's/.*(\([0-9.]*\) MiB\/s).*/\1/p')")
done
DD=$(printf '%s\n' "${dd_runs[@]}" | median)
RD=$(printf '%s\n' "${reader_runs[@]}" | median)
printf 'shards: %s (%.1f MiB), %s\n' "$DIR" "$(echo "$BYTES / 1048576" | bc -l)" "$COLD"
printf 'dd bs=4M        median %8.1f MiB/s  (runs: %s)\n' "$DD" "${dd_runs[*]}"
printf 'shard reader    median %8.1f MiB/s  (runs: %s)\n' "$RD" "${reader_runs[*]}"
printf 'reader / dd     %.2f\n' "$(echo "$RD / $DD" | bc -l)"
