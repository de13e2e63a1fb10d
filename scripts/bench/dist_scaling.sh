#!/usr/bin/env bash
# Data-parallel scaling on this machine (CPU, MPI backend):
#  - weak scaling: medtrain step time on 1 rank vs 2 ranks with the same
#    per-rank batch (efficiency = t1 / t2; 1.0 = perfect),
#  - the share of all-reduce time hidden behind backward (from metrics.jsonl),
#  - medtrain 2 ranks vs PyTorch DDP (torchrun, gloo) 2 ranks, same model,
#    batch, image size and threads: throughput ratio.
# Step time = the step without waiting for data (forward, backward, exposed
# communication, optimizer), median over the steps after warm-up; each setting
# is run RUNS times (default 5) and the median of the runs is reported.
set -euo pipefail
source "$(dirname "$0")/../lib.sh"
RUNS="${RUNS:-5}" BATCH="${BENCH_BATCH:-16}" SIZE="${BENCH_SIZE:-64}" STEPS="${BENCH_STEPS:-30}"
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 OMP_NUM_THREADS=1
BIN="$MEDTRAIN_BUILD/medtrain"
WORK="$(mktemp -d)"
trap 'rm -rf "$WORK"' EXIT
"$BIN" demo-data --out "$WORK/data" --count 800 --patients 40 --size "$SIZE" >/dev/null

medtrain_run() {  # ranks name -> prints "step_s hidden_fraction"
  local ranks=$1 name=$2
  mpirun -np "$ranks" --oversubscribe --bind-to none -x OMP_NUM_THREADS "$BIN" train \
    -c "$MEDTRAIN_ROOT/configs/smoke.yaml" --set data.root="$WORK/data" --set data.manifest="$WORK/data/manifest.csv" \
    --set run.output_dir="$WORK/runs" --set run.name="$name" --set run.max_steps=$((STEPS + 3)) \
    --set run.epochs=100 --set data.image_size="$SIZE" --set optim.batch_size="$BATCH" --set data.augment=false \
    --set run.eval_every_steps=0 --set checkpoint.every_steps=0 --set log.every_steps=1 --set log.progress=none \
    --set log.trace_steps=0 --set run.threads=1 --set data.workers=1 >/dev/null
  "$MEDTRAIN_PY" - "$WORK/runs/$name/metrics.jsonl" <<'PY'
import json, statistics, sys
rows = [json.loads(l) for l in open(sys.argv[1]) if '"train"' in l][3:]
step = [sum(v for k, v in r.items() if k.startswith("time/") and k not in
            ("time/data_wait", "time/allreduce_span", "time/allreduce_hidden_fraction")) for r in rows]
hidden = [r["time/allreduce_hidden_fraction"] for r in rows if "time/allreduce_hidden_fraction" in r]
print(f"{statistics.median(step):.5f} {statistics.median(hidden) if hidden else 1.0:.3f}")
PY
}

one=() two=() hidden=() ddp=()
for i in $(seq "$RUNS"); do
  read -r t _ < <(medtrain_run 1 "one$i")
  one+=("$t")
  read -r t h < <(medtrain_run 2 "two$i")
  two+=("$t") hidden+=("$h")
  ddp+=("$(BENCH_BATCH=$BATCH BENCH_SIZE=$SIZE BENCH_STEPS=$STEPS BENCH_THREADS=1 \
    "$MEDTRAIN_VENV/bin/torchrun" --standalone --nproc_per_node 2 "$MEDTRAIN_ROOT/scripts/bench/ddp_pytorch.py" 2>/dev/null)")
  echo "run $i: medtrain 1 rank ${one[-1]} s/step, 2 ranks ${two[-1]} s/step (hidden ${hidden[-1]}), pytorch ddp 2 ranks ${ddp[-1]} s/step"
done
"$MEDTRAIN_PY" - "${one[*]}" "${two[*]}" "${hidden[*]}" "${ddp[*]}" "$BATCH" <<'PY'
import statistics, sys
one, two, hidden, ddp = ([float(x) for x in a.split()] for a in sys.argv[1:5])
batch = int(sys.argv[5])
m1, m2, mh, md = (statistics.median(v) for v in (one, two, hidden, ddp))
print(f"median step: medtrain 1 rank {m1:.4f} s, 2 ranks {m2:.4f} s, pytorch ddp 2 ranks {md:.4f} s")
print(f"weak-scaling efficiency (1 -> 2 ranks): {m1 / m2:.3f}")
print(f"all-reduce hidden behind backward: {mh:.1%}")
print(f"throughput 2 ranks: medtrain {2 * batch / m2:.1f} samples/s, pytorch ddp {2 * batch / md:.1f} samples/s, "
      f"ratio {md / m2:.3f}")
PY
