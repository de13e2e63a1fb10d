#!/usr/bin/env bash
# Forward-only inference images/s on the CPU, like for like: medtrain
# (infer_forward_bench: the bundle loaded as `medtrain infer` loads it) vs ONNX
# Runtime on the bundle's model.onnx vs PyTorch eager (torchvision with the
# bundle's weights), on the same fixed batch. The three alternate, RUNS runs
# each; prints every run, the medians and the ratios. (infer_vs_ort.sh times
# the whole `medtrain infer` command instead: decode, preprocessing, output.)
#   scripts/bench/infer_forward_vs_ort.sh [MODEL...]
#     (default: resnet50 densenet121; any torchvision-named classifier of the
#     zoo, or unet2d once segmentation bundles export to ONNX: see BENCHMARKS.md)
# env: MEDTRAIN_BUILD (build dir with medtrain and bench/infer_forward_bench),
#      RUNS (5), BATCHES ("1 32": each batch size in turn), SIZE (224: the
#      bundle's image size), ITERS (2 forwards per run; batch 1 runs 8x as many
#      so that its run is not one short call), BENCH_THREADS (nproc);
#      MEDTRAIN_OWN_ONEDNN=0 / MEDTRAIN_ONEDNN_WINOGRAD=0 time medtrain with ATen's
#      oneDNN calls / without Winograd, for an A/B (docs/export.md)
# Each bundle comes from 2 training steps of configs/smoke.yaml (the U-Net: of
# configs/recipes/ct_unet2d.yaml on demo masks) on synthetic DICOM (the
# weights do not matter for speed) and `medtrain export`. medtrain's side is
# the bundle as `medtrain infer` loads it: its inference graph included.
set -euo pipefail
source "$(dirname "$0")/../lib.sh"
RUNS="${RUNS:-5}" BATCHES="${BATCHES:-1 32}" SIZE="${SIZE:-224}" ITERS="${ITERS:-2}"
THREADS="${BENCH_THREADS:-$(nproc)}"
export OMP_NUM_THREADS="$THREADS"
BIN="$MEDTRAIN_BUILD/medtrain"
BENCH="$MEDTRAIN_BUILD/bench/infer_forward_bench"
[ -x "$BIN" ] || die "$BIN not built (cmake --build $MEDTRAIN_BUILD --target medtrain)"
[ -x "$BENCH" ] || die "$BENCH not built (cmake --build $MEDTRAIN_BUILD --target infer_forward_bench)"
MODELS=("$@")
[ ${#MODELS[@]} -gt 0 ] || MODELS=(resnet50 densenet121)

DIR="$MEDTRAIN_BUILD/bench_infer_forward"
rm -rf "$DIR" && mkdir -p "$DIR"
"$BIN" demo-data --out "$DIR/data" --count 32 --patients 8 --size 64 --seed 1 >/dev/null
"$BIN" demo-data --out "$DIR/seg" --masks --count 32 --patients 8 --size 64 --seed 1 >/dev/null
echo "batches $BATCHES x 1x${SIZE}x${SIZE}, $THREADS threads, median of $RUNS runs; load: $(cut -d' ' -f1-3 /proc/loadavg)"
for model in "${MODELS[@]}"; do
  config="$MEDTRAIN_ROOT/configs/smoke.yaml" data="$DIR/data"
  [ "$model" != unet2d ] || config="$MEDTRAIN_ROOT/configs/recipes/ct_unet2d.yaml" data="$DIR/seg"
  "$BIN" train -c "$config" --set "data.root=$data" \
    --set "data.manifest=$data/manifest.csv" --set "run.output_dir=$DIR/runs" --set "run.name=$model" \
    --set "model.name=$model" --set "data.image_size=$SIZE" --set run.max_steps=2 --set run.eval_every_steps=2 \
    --set checkpoint.every_steps=2 --set run.device=cpu --set data.workers=1 >/dev/null
  "$BIN" export --checkpoint "$DIR/runs/$model/ckpt/latest" --out "$DIR/bundle-$model" >/dev/null
  for batch in $BATCHES; do
  iters=$ITERS
  [ "$batch" -gt 1 ] || iters=$((ITERS * 8))
  ours=() ort=() eager=()
  for i in $(seq "$RUNS"); do
    extra=()
    [ "$i" -gt 1 ] || extra=(BENCH_INPUT="$DIR/$model-input.npy" BENCH_LOGITS="$DIR/$model-logits.npy")
    ours+=("$(env BENCH_BUNDLE="$DIR/bundle-$model" BENCH_BATCH="$batch" BENCH_THREADS="$THREADS" \
      BENCH_ITERS="$iters" "${extra[@]}" "$BENCH" --benchmark_format=json 2>/dev/null | "$MEDTRAIN_PY" -c \
      'import json,sys; print("%.2f" % json.load(sys.stdin)["benchmarks"][0]["items_per_second"])')")
    read -r o e < <("$MEDTRAIN_PY" "$MEDTRAIN_ROOT/scripts/bench/infer_forward_reference.py" "$DIR/bundle-$model" \
      "$DIR/$model-input.npy" "$DIR/$model-logits.npy" "$THREADS" "$iters" | sed 's/[a-z]*=//g')
    [ -n "${e:-}" ] || die "infer_forward_reference.py failed for $model (run it by hand to see why)"
    ort+=("$o") eager+=("$e")
    echo "$model batch $batch run $i: medtrain ${ours[-1]}  onnxruntime $o  pytorch eager $e  images/s"
  done
  "$MEDTRAIN_PY" - "$model batch $batch" "${ours[*]}" "${ort[*]}" "${eager[*]}" <<'PY'
import statistics, sys
model, (ours, ort, eager) = sys.argv[1], ([float(v) for v in a.split()] for a in sys.argv[2:])
m, o, e = statistics.median(ours), statistics.median(ort), statistics.median(eager)
print(f"{model} median images/s: medtrain {m:.1f}, onnxruntime {o:.1f}, pytorch eager {e:.1f}; "
      f"medtrain/onnxruntime {m / o:.2f}, medtrain/eager {m / e:.2f}")
PY
  done
done
