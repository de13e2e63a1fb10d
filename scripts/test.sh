#!/usr/bin/env bash
# Builds medtrain and runs the whole test suite through ctest.
# Extra arguments go to ctest (e.g. scripts/test.sh -L unit, -R config).
set -euo pipefail
source "$(dirname "$0")/lib.sh"
"$MEDTRAIN_ROOT/scripts/setup.sh"
say "running tests"
cd "$MEDTRAIN_BUILD"
ctest --output-on-failure -j "$(nproc)" "$@"
