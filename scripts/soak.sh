#!/usr/bin/env bash
# A storage soak: 2 MPI ranks train the smoke recipe (ResNet-18, 32 px, CPU)
# from an emulated NAS (nasfs) while random transient faults are switched on and
# off under them, and the job is stopped with SIGTERM and resumed with
# `--resume auto` over and over. Then the same config trains once more from the
# plain folder, without faults or stops, and the final weights and optimizer
# state of both must be bitwise equal: nothing lost, nothing read wrong.
#
#   scripts/soak.sh MINUTES        (MINUTES may be fractional; about 40 steps a minute)
#
# Faults (tests/tools/nasfs/fault_rules.h), on the DICOM files only, one set at
# a time for 0.5-3 s, chosen at random (seed SOAK_SEED, default 1), often off:
#   EIO or ESTALE on open or read, short reads (the file ends early), reads
#   that hang 0.3 s, and mixes of them, each at 1-3% of requests (and one sure
#   hit soon after each switch).
# The run reads with data.read_retries=6, data.read_retry_backoff_ms=20 (at 3%
# a sample read fails 7 times running about once in 10^8) and data.on_error
# fail: a sample that stays unreadable ends the soak instead of being skipped.
# SIGTERM goes to a random rank every SOAK_TERM_EVERY steps or so.
#
# Prints a summary (steps, resumes, faults injected per kind from nasfs's fault
# log, read retries and skipped samples from metrics.jsonl, the comparison) and
# exits 0 only if the weights are bitwise equal, no sample was skipped and every
# stop was the clean one (exit 75). Exit 1 on any difference or failure, 2 on
# bad usage or a machine that cannot run it (no FUSE, nasfs or mpirun).
#
# Environment: MEDTRAIN_BIN (default build/medtrain), MEDTRAIN_BUILD_DIR or
# NASFS_BIN (nasfs), SOAK_DIR (work folder; default a new /tmp folder, removed
# after a passing soak unless SOAK_KEEP=1; a given SOAK_DIR keeps its logs and
# fault log but loses its runs and data), SOAK_STEPS (overrides MINUTES),
# SOAK_SEED, SOAK_TERM_EVERY (0 = no SIGTERM), SOAK_FAULTS (one fault set,
# rules separated by '|', kept on all the time instead of the random switching),
# SOAK_SET (extra --set KEY=VALUE for both runs, space-separated). The last two
# are how tests/integration/soak_test.py shows that a soak can fail.
set -euo pipefail
source "$(dirname "$0")/lib.sh"

usage() { echo "usage: $0 MINUTES   (e.g. 1, 0.5, 60)" >&2; exit 2; }
unfit() { echo "soak: $*" >&2; exit 2; }
[[ $# -eq 1 && $1 =~ ^[0-9]+([.][0-9]+)?$ ]] || usage
MINUTES=$1
STEPS=${SOAK_STEPS:-$(awk -v m="$MINUTES" 'BEGIN { s = int(m * 40); print (s < 12 ? 12 : s) }')}
[[ $STEPS =~ ^[0-9]+$ && $STEPS -ge 6 ]] || unfit "SOAK_STEPS must be a whole number >= 6"
[[ ${SOAK_TERM_EVERY:-0} =~ ^[0-9]+$ ]] || unfit "SOAK_TERM_EVERY must be a whole number"
SEED=${SOAK_SEED:-1}
TERM_EVERY=${SOAK_TERM_EVERY:-$(( STEPS / 4 > 150 ? 150 : (STEPS / 4 < 4 ? 4 : STEPS / 4) ))}
RANDOM=$SEED

MT=${MEDTRAIN_BIN:-$MEDTRAIN_BUILD/medtrain}
NASFS=${NASFS_BIN:-${MEDTRAIN_BUILD_DIR:-$MEDTRAIN_BUILD}/tests/tools/nasfs/nasfs}
[[ -x $MT ]] || unfit "medtrain not found at $MT (build it, or set MEDTRAIN_BIN)"
[[ -x $NASFS ]] || unfit "nasfs not found at $NASFS (target nasfs needs libfuse3-dev; or set NASFS_BIN)"
[[ -e /dev/fuse ]] || unfit "/dev/fuse is missing: FUSE is not available here"
command -v fusermount3 >/dev/null || unfit "fusermount3 is missing (Debian package fuse3)"
command -v mpirun >/dev/null || unfit "mpirun is missing (Debian package openmpi-bin)"

WORK=${SOAK_DIR:-$(mktemp -d /tmp/medtrain-soak.XXXXXX)}
mkdir -p "$WORK"
WORK=$(cd "$WORK" && pwd)
SRC=$WORK/src MNT=$WORK/mnt RUNS=$WORK/runs FAULTS=$WORK/faults FAULT_LOG=$WORK/faults.log
NASFS_PID="" DRIVER_PID="" TRAIN_PID="" PASSED=0

cleanup() {
  set +e  # every step, even after one fails
  [[ -n $DRIVER_PID ]] && kill "$DRIVER_PID" 2>/dev/null && wait "$DRIVER_PID" 2>/dev/null
  [[ -n $TRAIN_PID ]] && kill -KILL -- "-$TRAIN_PID" 2>/dev/null && wait "$TRAIN_PID" 2>/dev/null
  if mountpoint -q "$MNT" 2>/dev/null; then fusermount3 -u "$MNT" || true; fi
  [[ -n $NASFS_PID ]] && wait "$NASFS_PID" 2>/dev/null
  if [[ $PASSED != 1 || -n ${SOAK_KEEP:-} ]]; then
    echo "soak: work folder kept: $WORK"
  elif [[ -n ${SOAK_DIR:-} ]]; then
    rm -rf "$RUNS" "$SRC"  # the checkpoints are most of it; logs and the fault log stay
  else
    rm -rf "$WORK"
  fi
}
trap cleanup EXIT
fail() { echo "soak: FAILED: $*" >&2; exit 1; }

# The training arguments of both runs; $1 = data folder, $2 = run name.
train_args() {
  local data=$1 name=$2
  local args=(-c "$MEDTRAIN_ROOT/configs/smoke.yaml"
    --set "data.root=$data" --set "data.manifest=$data/manifest.csv" --set "data.workers=1"
    --set "run.output_dir=$RUNS" --set "run.name=$name" --set "run.max_steps=$STEPS" --set run.epochs=100000
    --set run.eval_every_steps=0 --set checkpoint.every_steps=10 --set checkpoint.keep_last=2
    --set optim.batch_size=4 --set dist.timeout_s=60 --set data.on_error=fail
    --set data.read_retries=6 --set data.read_retry_backoff_ms=20)
  local kv
  for kv in ${SOAK_SET:-}; do args+=(--set "$kv"); done
  printf '%s\n' "${args[@]}"
}

MPIRUN=(mpirun -np 2 --bind-to none --oversubscribe -x OMP_NUM_THREADS "$MT")
export OMP_NUM_THREADS=1

last_step() {  # the last train step logged in $1/metrics.jsonl, 0 if none
  local s
  s=$(grep '"kind":"train"' "$1/metrics.jsonl" 2>/dev/null | tail -1 | grep -o '"step":[0-9]*' | cut -d: -f2 || true)
  echo "${s:-0}"
}

# The fault sets the driver switches between (nasfs control-file rules, '|'
# between rules). Besides its rate, each set hits one request for sure soon
# after it is switched on (after=3 count=1; count=2 for ESTALE on open, which
# the kernel retries once by itself), so that even a short soak injects faults.
FAULT_SETS=(
  ""
  ""
  "read *.dcm eio after=3 count=1|read *.dcm eio prob=0.03"
  "read *.dcm estale after=3 count=1|read *.dcm estale prob=0.03"
  "open *.dcm estale after=3 count=2|open *.dcm estale prob=0.02"
  "open *.dcm eio after=3 count=1|open *.dcm eio prob=0.02"
  "read *.dcm short after=3 count=1|read *.dcm short prob=0.03"
  "read *.dcm hang=0.3 after=3 count=1|read *.dcm hang=0.3 prob=0.01"
  "read *.dcm eio prob=0.01|open *.dcm estale prob=0.01|read *.dcm short prob=0.01|read *.dcm hang=0.3 prob=0.005"
)
set_faults() {  # $1: rules separated by '|'; written beside the control file, then renamed over it
  tr '|' '\n' <<<"$1" >"$FAULTS.tmp"
  mv -f "$FAULTS.tmp" "$FAULTS"
}
fault_driver() {
  if [[ -n ${SOAK_FAULTS:-} ]]; then
    set_faults "$SOAK_FAULTS"
    echo 1 >"$WORK/fault_switches"
    exec sleep infinity
  fi
  RANDOM=$((SEED + 7919))
  local switches=0
  while :; do
    set_faults "${FAULT_SETS[RANDOM % ${#FAULT_SETS[@]}]}"
    switches=$((switches + 1))
    echo "$switches" >"$WORK/fault_switches"
    sleep "$((RANDOM % 3)).$((RANDOM % 5 + 5))"  # 0.5 to 2.9 s
  done
}

t_start=$SECONDS
say "soak: $STEPS steps on 2 ranks from nasfs with ${SOAK_FAULTS:+the faults }${SOAK_FAULTS:-random faults}," \
  "$([[ $TERM_EVERY -gt 0 ]] && echo "SIGTERM about every $TERM_EVERY steps" || echo "no SIGTERM") (work $WORK)"
"$MT" demo-data --out "$SRC" --count 48 --patients 12 --size 64 --seed 3 >/dev/null || fail "demo-data failed"
mkdir -p "$MNT" "$RUNS"
: >"$FAULT_LOG"
set_faults ""
"$NASFS" "$SRC" "$MNT" --latency-ms=0.5 --faults="$FAULTS" --fault-seed="$SEED" --fault-log="$FAULT_LOG" -f \
  2>"$WORK/nasfs.stderr" &
NASFS_PID=$!
for _ in $(seq 100); do mountpoint -q "$MNT" && break; sleep 0.1; done
mountpoint -q "$MNT" || fail "nasfs did not mount $MNT: $(cat "$WORK/nasfs.stderr")"

fault_driver &
DRIVER_PID=$!

# The faulted run: start or resume, stop a random rank with SIGTERM after some
# steps, resume, until the run ends by itself.
mapfile -t SOAK_ARGS < <(train_args "$MNT" soak)
resumes=0 segment=0 retries=0 skipped=0 seen_retries_field=0
while :; do
  segment=$((segment + 1))
  start_step=$(last_step "$RUNS/soak")
  metrics_lines=0
  [[ -f $RUNS/soak/metrics.jsonl ]] && metrics_lines=$(wc -l <"$RUNS/soak/metrics.jsonl")
  resume=()
  [[ $segment -gt 1 ]] && resume=(--resume auto) && resumes=$((resumes + 1))
  # Its own process group, so that cleanup can end mpirun and both ranks at once.
  setsid "${MPIRUN[@]}" train "${SOAK_ARGS[@]}" "${resume[@]}" >"$WORK/segment-$segment.log" 2>&1 &
  TRAIN_PID=$!
  stop_at=$((start_step + TERM_EVERY / 2 + RANDOM % (TERM_EVERY + 1)))
  signalled=0
  while kill -0 "$TRAIN_PID" 2>/dev/null; do
    if [[ $signalled == 0 && $TERM_EVERY -gt 0 && $stop_at -lt $((STEPS - 1)) &&
          $(last_step "$RUNS/soak") -ge $stop_at ]]; then
      mapfile -t ranks < <(pgrep -P "$TRAIN_PID" -x medtrain || true)  # mpirun's children: the ranks
      if [[ ${#ranks[@]} -gt 0 ]]; then
        kill -TERM "${ranks[RANDOM % ${#ranks[@]}]}" 2>/dev/null || true
        signalled=1
      fi
    fi
    sleep 0.2
  done
  rc=0
  wait "$TRAIN_PID" || rc=$?
  TRAIN_PID=""
  # Per process: the read counters start at 0 in each process, so each
  # segment's last value adds up.
  seg_metrics=$(tail -n +"$((metrics_lines + 1))" "$RUNS/soak/metrics.jsonl" 2>/dev/null | grep '"kind":"train"' || true)
  if grep -q '"read_retries"' <<<"$seg_metrics"; then
    seen_retries_field=1
    retries=$((retries + $(tail -1 <<<"$seg_metrics" | grep -o '"read_retries":[0-9]*' | cut -d: -f2)))
    skipped=$((skipped + $(tail -1 <<<"$seg_metrics" | grep -o '"read_skipped":[0-9]*' | cut -d: -f2)))
  fi
  echo "segment $segment: exit $rc at step $(last_step "$RUNS/soak") ($((SECONDS - t_start)) s)"
  if [[ $rc == 0 ]]; then break; fi
  if [[ $rc != 75 ]]; then
    # medtrain's own error line first: Open MPI's abort notice (about ten
    # lines, written after it) would push it out of a plain tail.
    grep -m 3 "medtrain: error" "$WORK/segment-$segment.log" >&2 || true
    tail -5 "$WORK/segment-$segment.log" >&2
    fail "training exited $rc (not the clean stop 75) in segment $segment; log $WORK/segment-$segment.log"
  fi
  [[ $signalled == 1 ]] || fail "training stopped (75) without being signalled in segment $segment"
  [[ $segment -lt $((STEPS + 2)) ]] || fail "no progress after $segment segments"
done
kill "$DRIVER_PID" 2>/dev/null
wait "$DRIVER_PID" 2>/dev/null || true
DRIVER_PID=""
set_faults ""

# The reference: the same config from the plain folder, no faults, no stops.
say "soak: the fault-free reference run"
mapfile -t REF_ARGS < <(train_args "$SRC" reference)
"${MPIRUN[@]}" train "${REF_ARGS[@]}" >"$WORK/reference.log" 2>&1 || fail "the reference run failed; log $WORK/reference.log"
echo "reference: done ($((SECONDS - t_start)) s)"

final=$(printf 'step-%08d' "$STEPS")
diffs=()
for f in model.safetensors optimizer.safetensors; do
  a=$RUNS/soak/ckpt/$final/$f b=$RUNS/reference/ckpt/$final/$f
  [[ -f $a && -f $b ]] || { diffs+=("$f missing"); continue; }
  cmp -s "$a" "$b" || diffs+=("$f differs")
done

count() { grep -c " $1\$" "$FAULT_LOG" || true; }
injected=$(wc -l <"$FAULT_LOG")
echo
echo "soak summary ($((SECONDS - t_start)) s, seed $SEED)"
echo "  steps:            $STEPS on 2 ranks, $resumes SIGTERM/resume cycles"
echo "  faults injected:  $injected (eio $(count eio), estale $(count estale), short $(count short)," \
  "hang $(grep -c ' hang=' "$FAULT_LOG" || true)) in $(cat "$WORK/fault_switches" 2>/dev/null || echo 0) switches"
echo "  read retries:     $retries (metrics.jsonl, summed over the $segment processes)"
echo "  skipped samples:  $skipped"
if [[ ${#diffs[@]} -eq 0 && $skipped == 0 ]]; then
  echo "  final weights:    bitwise equal to the fault-free run (model + optimizer, step $STEPS)"
  echo "  bytes lost:       0"
else
  echo "  final weights:    ${diffs[*]:-equal}"
fi
[[ $seen_retries_field == 1 ]] || fail "metrics.jsonl has no read_retries field: this medtrain does not count read retries"
[[ ${#diffs[@]} -eq 0 ]] || fail "the soak run's final state differs from the fault-free run: ${diffs[*]}"
[[ $skipped == 0 ]] || fail "$skipped samples were skipped"
[[ $injected -gt 0 ]] || fail "no fault was injected: the soak tested nothing"
PASSED=1
echo "soak: PASSED"
