#!/usr/bin/env bash
# The main job, end to end on one machine with no GPU: build, make synthetic CT
# DICOM data, pack it into checksummed shards, train ResNet-18 on two MPI ranks
# to find a lung nodule, evaluate the best checkpoint, export it (safetensors +
# ONNX) and run batch inference from the exported bundle alone.
set -euo pipefail
source "$(dirname "$0")/lib.sh"
"$MEDTRAIN_ROOT/scripts/setup.sh"
cd "$MEDTRAIN_ROOT"
MT="$MEDTRAIN_BUILD/medtrain"
RUN=runs/quickstart

say "medtrain $("$MT" --version | cut -d' ' -f2-)"
if [ ! -f demo_data/manifest.csv ]; then
  say "making demo data: synthetic CT slices (12-bit, HU rescale; explicit LE, JPEG-LS, RLE)"
  "$MT" demo-data --out demo_data --count 600 --patients 60 --seed 0
fi

say "packing the DICOM files into shards (HU as int16, CRC32C per record; resumes if interrupted)"
"$MT" pack --manifest demo_data/manifest.csv --root demo_data --out demo_data/shards --label-names no_lesion,lesion

# Two ranks of 16 with synchronized batch norm compute exactly what one process
# with batch 32 would: the data-parallel path, on a laptop.
TRAIN=(-c configs/quickstart.yaml --set data.shards=demo_data/shards --set optim.batch_size=16
       --set model.sync_bn=true)
say "checking the experiment config"
"$MT" config check "${TRAIN[@]}" >/dev/null && echo "configs/quickstart.yaml (+ shards, 2 ranks): ok"

rm -rf "$RUN"
if command -v mpirun >/dev/null; then
  say "training ($RUN): ResNet-18, lesion present/absent, 2 ranks x 16 samples from shards"
  OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 OMP_NUM_THREADS=1 \
    mpirun -np 2 --oversubscribe --bind-to none -x OMP_NUM_THREADS "$MT" train "${TRAIN[@]}" "$@"
else
  say "training ($RUN): ResNet-18, lesion present/absent (mpirun not found: one process)"
  "$MT" train -c configs/quickstart.yaml --set data.shards=demo_data/shards "$@"
fi

say "evaluating the best checkpoint on the held-out patients"
"$MT" eval -c configs/quickstart.yaml --set data.shards=demo_data/shards --checkpoint "$RUN/ckpt/best"

say "exporting the best checkpoint: safetensors + model.yaml + ONNX (checked)"
"$MT" export --checkpoint "$RUN/ckpt/best" --format safetensors,onnx --out "$RUN/model" --overwrite

say "batch inference from the bundle alone (its own preprocessing; no training config)"
"$MT" infer --model "$RUN/model" --in demo_data/manifest.csv --out "$RUN/predictions.csv"
head -4 "$RUN/predictions.csv"

say "what the run wrote"
ls "$RUN" "$RUN/ckpt" "$RUN/model"
echo
echo "metrics: $RUN/metrics.jsonl | TensorBoard: tensorboard --logdir $RUN/tensorboard"
echo "resume (one process, same global batch of 32):"
echo "         $MT train -c configs/quickstart.yaml --set data.shards=demo_data/shards --set model.sync_bn=true --resume auto --set run.epochs=12"
