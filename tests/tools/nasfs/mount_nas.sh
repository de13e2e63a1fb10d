#!/usr/bin/env bash
# Mount SRC at MNT through nasfs, the emulated NFS NAS, in the background.
#   tests/tools/nasfs/mount_nas.sh SRC MNT [LATENCY_MS=1] [BANDWIDTH_MBPS=0 (no cap)] [NASFS_FLAG...]
# NASFS_FLAGs go to nasfs as they are, e.g. --writable --faults=/tmp/faults --fault-log=/tmp/faults.log
# Waits until the mount answers, then prints its pid and how to unmount.
# The binary: $NASFS_BIN, else $MEDTRAIN_BUILD_DIR/tests/tools/nasfs/nasfs,
# else the newest build*/tests/tools/nasfs/nasfs of this repository.
set -euo pipefail

usage() { echo "usage: $0 SRC MNT [LATENCY_MS] [BANDWIDTH_MBPS] [NASFS_FLAG...]" >&2; exit 2; }
[[ $# -ge 2 ]] || usage
src=$1 mnt=$2 latency=${3:-1} bw=${4:-0}
flags=("${@:5}")
repo=$(cd "$(dirname "$0")/../../.." && pwd)

bin=${NASFS_BIN:-}
if [[ -z $bin && -n ${MEDTRAIN_BUILD_DIR:-} ]]; then bin=$MEDTRAIN_BUILD_DIR/tests/tools/nasfs/nasfs; fi
if [[ -z $bin || ! -x $bin ]]; then
  bin=$(ls -t "$repo"/build*/tests/tools/nasfs/nasfs 2>/dev/null | head -1 || true)
fi
[[ -n $bin && -x $bin ]] || { echo "mount_nas: nasfs binary not found (build target nasfs, or set NASFS_BIN)" >&2; exit 1; }
[[ -e /dev/fuse ]] || { echo "mount_nas: /dev/fuse is missing: FUSE is not available here" >&2; exit 1; }
[[ -d $src ]] || { echo "mount_nas: source folder '$src' does not exist" >&2; exit 2; }
mkdir -p "$mnt"
if mountpoint -q "$mnt"; then echo "mount_nas: '$mnt' is already a mount point" >&2; exit 1; fi

log=$(mktemp /tmp/nasfs.XXXXXX.log)
nohup "$bin" "$src" "$mnt" --latency-ms="$latency" --bandwidth-mbps="$bw" "${flags[@]}" -f >"$log" 2>&1 &
pid=$!
for _ in $(seq 1 100); do  # up to 10 s
  if mountpoint -q "$mnt"; then
    echo "nasfs pid $pid: $src -> $mnt (latency ${latency} ms/request, bandwidth ${bw} MB/s, 0 = no cap${flags[*]:+; ${flags[*]}}); log $log"
    echo "unmount: fusermount3 -u $mnt"
    exit 0
  fi
  if ! kill -0 "$pid" 2>/dev/null; then
    echo "mount_nas: nasfs exited before mounting:" >&2; cat "$log" >&2; exit 1
  fi
  sleep 0.1
done
echo "mount_nas: '$mnt' did not become a mount point within 10 s (see $log)" >&2
kill "$pid" 2>/dev/null || true
exit 1
