#!/usr/bin/env bash
# Builds medtrain and runs the whole test suite through ctest.
# Extra arguments go to ctest (e.g. scripts/test.sh -L unit, -R config).
set -euo pipefail
source "$(dirname "$0")/lib.sh"
"$MEDTRAIN_ROOT/scripts/setup.sh"
say "running tests"
cd "$MEDTRAIN_BUILD"
ctest --output-on-failure -j "$(nproc)" "$@"
# Every parser of untrusted bytes under libFuzzer with ASan/UBSan, for a
# bounded time (tests/fuzz/run_fuzz.sh; its own clang build, separate from build/).
if [ $# -eq 0 ]; then
  say "fuzzing the DICOM, shard, audio, model.bin, safetensors, trainer_state.json, config, manifest, bundle and PyTorch weight readers (${MEDTRAIN_FUZZ_SECONDS:-90} s)"
  MEDTRAIN_PYTHON="$MEDTRAIN_PY" "$MEDTRAIN_ROOT/tests/fuzz/run_fuzz.sh" "${MEDTRAIN_FUZZ_SECONDS:-90}"
fi
