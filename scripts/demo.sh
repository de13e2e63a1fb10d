#!/usr/bin/env bash
# The main job, end to end on one machine with no GPU: build, make synthetic CT
# DICOM data, train ResNet-18 to find a lung nodule, evaluate the best
# checkpoint, and show what the run left behind.
set -euo pipefail
source "$(dirname "$0")/lib.sh"
"$MEDTRAIN_ROOT/scripts/setup.sh"
cd "$MEDTRAIN_ROOT"
MT="$MEDTRAIN_BUILD/medtrain"

say "medtrain $("$MT" --version | cut -d' ' -f2-)"
if [ ! -f demo_data/manifest.csv ]; then
  say "making demo data: synthetic CT slices (12-bit, HU rescale; explicit LE, JPEG-LS, RLE)"
  "$MT" demo-data --out demo_data --count 600 --patients 60 --seed 0
fi

say "checking the experiment config"
"$MT" config check -c configs/quickstart.yaml >/dev/null && echo "configs/quickstart.yaml: ok"

say "training (runs/quickstart): ResNet-18, lesion present/absent"
rm -rf runs/quickstart
"$MT" train -c configs/quickstart.yaml "$@"

say "evaluating the best checkpoint on the held-out patients"
"$MT" eval -c configs/quickstart.yaml --checkpoint runs/quickstart/ckpt/best

say "what the run wrote"
ls runs/quickstart runs/quickstart/ckpt
echo
echo "metrics: runs/quickstart/metrics.jsonl | TensorBoard: tensorboard --logdir runs/quickstart/tensorboard"
echo "resume:  $MT train -c configs/quickstart.yaml --resume auto --set run.epochs=12"
