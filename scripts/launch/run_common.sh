# Shared by the Slurm and mpirun launch scripts (sourced, not run).
# medtrain_prepare CONFIG [--set k=v ...]: checks the config, finds the run
#   directory, and sends this script's output there as well.
# medtrain_finish RC: exit 75 (stopped for preemption) requeues a Slurm job.

medtrain_prepare() {
  CONFIG=${1:?usage: CONFIG.yaml [--set key=value ...]}
  shift
  OVERRIDES=("$@")
  local root
  root=${MEDTRAIN_ROOT:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)}
  MEDTRAIN=${MEDTRAIN:-$root/build/medtrain}
  export OMPI_ALLOW_RUN_AS_ROOT=${OMPI_ALLOW_RUN_AS_ROOT:-1} OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=${OMPI_ALLOW_RUN_AS_ROOT_CONFIRM:-1}
  export OMP_NUM_THREADS=${OMP_NUM_THREADS:-1}
  # A bad config fails here, once, instead of on every rank.
  "$MEDTRAIN" config check -c "$CONFIG" "${OVERRIDES[@]}" >/dev/null || exit 2
  RUN_DIR="$("$MEDTRAIN" config get -c "$CONFIG" "${OVERRIDES[@]}" run.output_dir)/$("$MEDTRAIN" config get -c "$CONFIG" "${OVERRIDES[@]}" run.name)"
  mkdir -p "$RUN_DIR"
  local log="$RUN_DIR/launch-${SLURM_JOB_ID:-$$}.log"
  exec > >(tee -a "$log") 2>&1
  echo "medtrain: $(date -Is) job ${SLURM_JOB_ID:-none} on $(hostname): $MEDTRAIN train -c $CONFIG ${OVERRIDES[*]}"
}

medtrain_finish() {
  local rc=$1
  if [[ $rc -eq 75 && -n "${SLURM_JOB_ID:-}" ]]; then
    echo "medtrain: stopped for preemption with a checkpoint; requeueing job $SLURM_JOB_ID"
    scontrol requeue "$SLURM_JOB_ID"
  fi
  echo "medtrain: $(date -Is) exit $rc"
  exit "$rc"
}
