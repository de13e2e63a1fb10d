#!/usr/bin/env bash
# Accelerator utilization (AU), MLPerf Storage style, of medtrain's loader
# reading from an emulated NFS NAS (nasfs: LATENCY_MS per request, BW_MBPS cap).
#   scripts/bench/au_mlperf.sh [BUILD_DIR]      (default: build)
# One process = one accelerator: `medtrain iobench --simulate` runs the real
# BatchLoader (data.workers threads, prefetch window) on the files while the
# accelerator is emulated by sleeping compute_ms per batch; AU = compute / wall.
# MLPerf counts a run when AU >= 90%.
#
#  (a) raw small files, one open+read per sample (no decoding), for each WORKERS
#      value; also unet3d-like 140 MB files
#  (a') the same resnet50-sized samples as a DICOM tree, through the training
#      pipeline of an experiment config (decode + preprocess included)
#  (b)  those DICOM files packed into shards (`medtrain pack`, data.shards)
#  (b') the same shards, records read and CRC-checked but not decoded
#       (--records-only: the storage number MLPerf Storage measures)
#  (c)  shards + data.cache_dir (node-local copy made in epoch 1)
# (a')-(c) run when `medtrain pack` exists in this build; they decode on the
# CPU, so on a small machine they may measure the CPU rather than the storage.
#
# Environment: WORK (/tmp/au_mlperf), LATENCY_MS (1), BW_MBPS (1250 = 10 GbE),
# RESNET_FILES (2000), UNET_FILES (4), DICOM_COUNT (2000), WORKERS ("2 8 32"),
# EPOCHS (2), ONLY (a regex on the row labels, e.g. "shard"; default: every row),
# IMAGE_SIZE (64, the quickstart's; 224 is resnet50's real input and makes the
# decode rows decode, resize and assemble 3x the bytes).
# resnet50 keeps MLPerf's batch 400 / 224 ms; unet3d's batch 7 / 323 ms is scaled
# to batch 2 / 92 ms (same compute per sample) so that 4 files make 2 steps.
set -euo pipefail
repo=$(cd "$(dirname "$0")/../.." && pwd)
build=${1:-$repo/build}
bin=$build/medtrain
work=${WORK:-/tmp/au_mlperf}
latency=${LATENCY_MS:-1} bw=${BW_MBPS:-1250}
resnet_files=${RESNET_FILES:-2000} unet_files=${UNET_FILES:-4}
workers_list=${WORKERS:-"2 8 32"} epochs=${EPOCHS:-2} dicom_count=${DICOM_COUNT:-2000}
py=${MEDTRAIN_PYTHON:-$repo/.venv/bin/python}
[[ -x $bin ]] || { echo "au_mlperf: $bin not found (build target medtrain)" >&2; exit 1; }
export NASFS_BIN=${NASFS_BIN:-$build/tests/tools/nasfs/nasfs}

mkdir -p "$work/src"
"$py" "$repo/scripts/bench/au_datasets.py" resnet50 "$work/src/resnet50" "$resnet_files"
"$py" "$repo/scripts/bench/au_datasets.py" unet3d "$work/src/unet3d" "$unet_files"
have_pack=0
if "$bin" pack --help >/dev/null 2>&1; then
  have_pack=1
  # 240 x 240 16-bit uncompressed slices: ~116 KB files, resnet50's sample size.
  if [[ ! -f $work/src/dicom/manifest.csv ]]; then
    "$bin" demo-data --out "$work/src/dicom" --count "$dicom_count" --size 240 --transfer-syntax explicit-le >/dev/null
  fi
  if [[ ! -f $work/src/shards/metadata.json ]]; then
    "$bin" pack --manifest "$work/src/dicom/manifest.csv" --out "$work/src/shards" --compress none >/dev/null
  fi
  cat > "$work/au.yaml" <<YAML
base: $repo/configs/quickstart.yaml
data:
  root: $work/src/dicom
  manifest: $work/src/dicom/manifest.csv
  image_size: ${IMAGE_SIZE:-64}
YAML
fi

mnt=$work/nas
"$repo/tests/tools/nasfs/mount_nas.sh" "$work/src" "$mnt" "$latency" "$bw"
trap 'fusermount3 -u "$mnt" 2>/dev/null || true' EXIT
results=$work/results.jsonl
: > "$results"

simulate() {  # LABEL ARGS...: one run, its JSON appended to the results
  local label=$1; shift
  [[ -z ${ONLY:-} || $label =~ $ONLY ]] || return 0
  "$bin" iobench "$@" --simulate --json --epochs "$epochs" --max-seconds 60 |
    "$py" -c 'import json,sys; j=json.load(sys.stdin); j["label"]=sys.argv[1]; print(json.dumps(j))' "$label" \
    >> "$results"
}

echo "load before: $(cut -d' ' -f1-3 /proc/loadavg) on $(nproc) cores"
for w in $workers_list; do
  simulate "resnet50 files workers=$w" "$mnt/resnet50" --workload resnet50 --workers "$w" --prefetch 4
  simulate "unet3d files workers=$w" "$mnt/unet3d" --workload unet3d --batch 2 --compute-ms 92.3 --workers "$w" --prefetch 4
done
if [[ $have_pack == 1 ]]; then
  # Look every name up once (nasfs caches names 60 s): the FUSE client here sends
  # the first lookup of each new name in a folder serially, an NFS client does not.
  find "$mnt/dicom" "$mnt/shards" -type f -exec stat -c %s {} + >/dev/null
  for w in $workers_list; do
    simulate "resnet50 dicom workers=$w" "$mnt/dicom" --workload resnet50 --workers "$w" -c "$work/au.yaml"
    simulate "resnet50 shards workers=$w" "$mnt/shards" --workload resnet50 --workers "$w" -c "$work/au.yaml" \
      --set data.shards="$mnt/shards"
    simulate "resnet50 shard records workers=$w" "$mnt/shards" --workload resnet50 --workers "$w" -c "$work/au.yaml" \
      --set data.shards="$mnt/shards" --records-only
    rm -rf "$work/cache"
    simulate "resnet50 shards+cache workers=$w" "$mnt/shards" --workload resnet50 --workers "$w" -c "$work/au.yaml" \
      --set data.shards="$mnt/shards" --set data.cache_dir="$work/cache"
  done
else
  echo "shards: skipped ('$bin pack' is not in this build)"
fi
echo "load after: $(cut -d' ' -f1-3 /proc/loadavg)"

"$py" - "$results" <<'PY'
import json, sys
rows = [json.loads(l) for l in open(sys.argv[1])]
print(f"{'run':<34} {'batch':>5} {'compute ms':>10} {'samples/s':>10} {'wait s':>7} {'first':>6} {'AU':>6}  epochs")
for r in rows:
    ep = " ".join(f"{100 * a:.0f}%" for a in r["epoch_au"])
    # first: the wait for each epoch's first batch (start-up), part of wait s
    print(f"{r['label']:<34} {r['batch']:>5} {r['compute_ms']:>10.1f} {r['samples_per_s']:>10.0f} "
          f"{r['wait_s']:>7.2f} {r.get('first_wait_s', 0):>6.2f} {100 * r['au']:>5.1f}%  {ep}")
PY
echo "results: $results"
