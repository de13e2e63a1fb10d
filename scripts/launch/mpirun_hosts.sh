#!/bin/bash
# medtrain on the hosts of a hostfile with plain Open MPI (no scheduler).
#   scripts/launch/mpirun_hosts.sh HOSTFILE RANKS CONFIG.yaml [--set ...]
# HOSTFILE lines: "node1 slots=8". Every host needs the same medtrain path and
# must see the data and run directory (NAS). Extra mpirun flags via
# MPIRUN_FLAGS, e.g. "--mca btl_tcp_if_include eth0".
set -uo pipefail
HOSTFILE=${1:?usage: mpirun_hosts.sh HOSTFILE RANKS CONFIG.yaml [--set ...]}
RANKS=${2:?number of ranks}
shift 2
source "$(dirname "$(readlink -f "${BASH_SOURCE[0]}")")/run_common.sh"
medtrain_prepare "$@"
# shellcheck disable=SC2086
mpirun --hostfile "$HOSTFILE" -np "$RANKS" --bind-to none -x OMP_NUM_THREADS -x PATH -x LD_LIBRARY_PATH \
  ${MPIRUN_FLAGS:-} "$MEDTRAIN" train -c "$CONFIG" "${OVERRIDES[@]}" --resume auto
medtrain_finish $?
