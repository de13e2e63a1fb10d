#!/usr/bin/env bash
# Forward-only inference images/s on the CPU, like for like: medtrain
# (infer_forward_bench: the bundle loaded as `medtrain infer` loads it) vs ONNX
# Runtime on the bundle's model.onnx vs PyTorch eager (torchvision with the
# bundle's weights), on the same fixed batch. The three alternate, RUNS runs
# each; prints every run, the medians and the ratios. (infer_vs_ort.sh times
# the whole `medtrain infer` command instead: decode, preprocessing, output.)
#   scripts/bench/infer_forward_vs_ort.sh [MODEL...]     (default: resnet18 resnet50)
# env: MEDTRAIN_BUILD (build dir with medtrain and bench/infer_forward_bench),
#      RUNS (5), BATCH (32), SIZE (224: the bundle's image size), ITERS (2
#      forwards per run), BENCH_THREADS (nproc)
# Each bundle comes from 2 training steps of configs/smoke.yaml on synthetic
# DICOM (the weights do not matter for speed) and `medtrain export`.
set -euo pipefail
source "$(dirname "$0")/../lib.sh"
RUNS="${RUNS:-5}" BATCH="${BATCH:-32}" SIZE="${SIZE:-224}" ITERS="${ITERS:-2}"
THREADS="${BENCH_THREADS:-$(nproc)}"
export OMP_NUM_THREADS="$THREADS"
BIN="$MEDTRAIN_BUILD/medtrain"
BENCH="$MEDTRAIN_BUILD/bench/infer_forward_bench"
[ -x "$BIN" ] || die "$BIN not built (cmake --build $MEDTRAIN_BUILD --target medtrain)"
[ -x "$BENCH" ] || die "$BENCH not built (cmake --build $MEDTRAIN_BUILD --target infer_forward_bench)"
MODELS=("$@")
[ ${#MODELS[@]} -gt 0 ] || MODELS=(resnet18 resnet50)

DIR="$MEDTRAIN_BUILD/bench_infer_forward"
rm -rf "$DIR" && mkdir -p "$DIR"
"$BIN" demo-data --out "$DIR/data" --count 32 --patients 8 --size 64 --seed 1 >/dev/null
echo "batch $BATCH x 1x${SIZE}x${SIZE}, $THREADS threads, $ITERS forwards per run, median of $RUNS runs; load: $(cut -d' ' -f1-3 /proc/loadavg)"
for model in "${MODELS[@]}"; do
  "$BIN" train -c "$MEDTRAIN_ROOT/configs/smoke.yaml" --set "data.root=$DIR/data" \
    --set "data.manifest=$DIR/data/manifest.csv" --set "run.output_dir=$DIR/runs" --set "run.name=$model" \
    --set "model.name=$model" --set "data.image_size=$SIZE" --set run.max_steps=2 --set run.eval_every_steps=2 \
    --set checkpoint.every_steps=2 --set run.device=cpu >/dev/null
  "$BIN" export --checkpoint "$DIR/runs/$model/ckpt/latest" --out "$DIR/bundle-$model" >/dev/null
  ours=() ort=() eager=()
  for i in $(seq "$RUNS"); do
    extra=()
    [ "$i" -gt 1 ] || extra=(BENCH_INPUT="$DIR/$model-input.npy" BENCH_LOGITS="$DIR/$model-logits.npy")
    ours+=("$(env BENCH_BUNDLE="$DIR/bundle-$model" BENCH_BATCH="$BATCH" BENCH_THREADS="$THREADS" \
      BENCH_ITERS="$ITERS" "${extra[@]}" "$BENCH" --benchmark_format=json 2>/dev/null | "$MEDTRAIN_PY" -c \
      'import json,sys; print("%.2f" % json.load(sys.stdin)["benchmarks"][0]["items_per_second"])')")
    read -r o e < <("$MEDTRAIN_PY" "$MEDTRAIN_ROOT/scripts/bench/infer_forward_reference.py" "$DIR/bundle-$model" \
      "$DIR/$model-input.npy" "$DIR/$model-logits.npy" "$THREADS" "$ITERS" | sed 's/[a-z]*=//g')
    [ -n "${e:-}" ] || die "infer_forward_reference.py failed for $model (run it by hand to see why)"
    ort+=("$o") eager+=("$e")
    echo "$model run $i: medtrain ${ours[-1]}  onnxruntime $o  pytorch eager $e  images/s"
  done
  "$MEDTRAIN_PY" - "$model" "${ours[*]}" "${ort[*]}" "${eager[*]}" <<'PY'
import statistics, sys
model, (ours, ort, eager) = sys.argv[1], ([float(v) for v in a.split()] for a in sys.argv[2:])
m, o, e = statistics.median(ours), statistics.median(ort), statistics.median(eager)
print(f"{model} median images/s: medtrain {m:.1f}, onnxruntime {o:.1f}, pytorch eager {e:.1f}; "
      f"medtrain/onnxruntime {m / o:.2f}, medtrain/eager {m / e:.2f}")
PY
done
