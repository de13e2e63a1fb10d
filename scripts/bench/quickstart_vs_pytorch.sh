#!/usr/bin/env bash
# Quickstart training throughput, medtrain vs PyTorch eager: same model
# (ResNet-18, 1 channel), optimizer (AdamW), batch (32 x 1x64x64, in memory)
# and threads. Alternates the two, 5 runs each, prints medians and the ratio.
set -euo pipefail
source "$(dirname "$0")/../lib.sh"
RUNS="${RUNS:-5}"
export BENCH_THREADS="${BENCH_THREADS:-$(nproc)}" OMP_NUM_THREADS="${BENCH_THREADS:-$(nproc)}"
BENCH="$MEDTRAIN_BUILD/bench/train_step_bench"
[ -x "$BENCH" ] || die "$BENCH not built (scripts/setup.sh builds it)"
ours=() theirs=()
for i in $(seq "$RUNS"); do
  ours+=("$("$BENCH" --benchmark_format=json 2>/dev/null | "$MEDTRAIN_PY" -c \
    'import json,sys; print("%.2f" % json.load(sys.stdin)["benchmarks"][0]["items_per_second"])')")
  theirs+=("$("$MEDTRAIN_PY" "$MEDTRAIN_ROOT/scripts/bench/train_step_pytorch.py")")
  echo "run $i: medtrain ${ours[-1]} samples/s, pytorch ${theirs[-1]} samples/s"
done
"$MEDTRAIN_PY" - "${ours[*]}" "${theirs[*]}" <<'PY'
import statistics, sys
ours = [float(x) for x in sys.argv[1].split()]
theirs = [float(x) for x in sys.argv[2].split()]
mo, mt = statistics.median(ours), statistics.median(theirs)
print(f"median: medtrain {mo:.1f} samples/s, pytorch eager {mt:.1f} samples/s, ratio {mo / mt:.3f}")
PY
