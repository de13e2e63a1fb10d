#!/usr/bin/env bash
# Everything a session with a lent GPU runs, in one go, from the repo root:
#   scripts/gpu/prepare_carry.sh                       (here, once: gtest/benchmark)
#   run(command="bash scripts/gpu/validate.sh", carry=["build-gpu-deps"])   (device tool)
# Builds the kernels + tests/kernels + scripts/bench/kernel_* against the
# machine's torch wheel (scripts/gpu/CMakeLists.txt), runs the tests (CUDA ones
# included), runs every kernel benchmark (5 repetitions, aggregates) and
# PyTorch's fused AdamW, and prints a markdown table last. Files under $OUT
# (at most 8 come back): build.log, tests.log, tests.json, bench.json,
# adamw_pytorch.jsonl, table.md.
# A stage argument runs part of it on a machine kept warm between calls:
#   validate.sh build | test | bench | train | all (default)
# train: fused-vs-unfused training end to end (fused_train_check.sh: the same
# config trained with kernels.fused true and false, losses compared, log in
# train_check.log). It needs a CUDA build of the whole medtrain binary
# ($MEDTRAIN_BIN, default build-cuda/medtrain: DCMTK, MPI... are not in the
# kernels-only build above); without one it says so and is skipped.
set -uo pipefail
stage=${1:-all}
case $stage in build | test | bench | train | all) ;; *) echo "usage: validate.sh [build|test|bench|train|all]" >&2; exit 2 ;; esac
root=$(cd "$(dirname "$0")/../.." && pwd)
cd "$root"
out=${OUT:-$root/build-gpu/out}
build=${MEDTRAIN_GPU_BUILD:-$root/build-gpu}
deps=${MEDTRAIN_GPU_DEPS:-$root/build-gpu-deps}
jobs=${MEDTRAIN_GPU_JOBS:-16}
mkdir -p "$out" "$build/bench-json"
export PATH=/usr/local/cuda/bin:$PATH PYTHONUNBUFFERED=1

[[ -d $deps/googletest ]] || { echo "validate: $deps missing: run scripts/gpu/prepare_carry.sh here and carry build-gpu-deps" >&2; exit 2; }
nvidia-smi -L 2>&1 | head -n 4
gen=(); command -v ninja >/dev/null && gen=(-G Ninja)
test_rc=0
if [[ $stage == build || $stage == all ]]; then
echo "== configure + build (-j$jobs)"
if ! { cmake -S scripts/gpu -B "$build" "${gen[@]}" -DCMAKE_BUILD_TYPE=Release -DMEDTRAIN_GPU_DEPS="$deps" \
         -DMEDTRAIN_PYTHON="$(command -v python3)" &&
       cmake --build "$build" -j"$jobs"; } >"$out/build.log" 2>&1; then
  tail -n 60 "$out/build.log"
  echo "validate: build failed (full log: build.log)"
  exit 1
fi
tail -n 3 "$out/build.log"
fi

if [[ $stage == test || $stage == all ]]; then
echo "== tests"
"$build/test_kernels" --gtest_output=json:"$out/tests.json" >"$out/tests.log" 2>&1
test_rc=$?
grep -E "^\[  (PASSED|FAILED|  SKIPPED) |^\[  FAILED  \]" "$out/tests.log" | head -n 40
echo "test_kernels exit code: $test_rc"
fi

if [[ $stage == bench || $stage == all ]]; then
echo "== benchmarks"
for b in "$build"/kernel_*_bench; do
  name=$(basename "$b")
  echo "-- $name"
  "$b" --benchmark_repetitions=5 --benchmark_report_aggregates_only=true \
       --benchmark_out="$build/bench-json/$name.json" --benchmark_out_format=json >/dev/null 2>>"$out/tests.log" ||
    echo "$name failed (stderr appended to tests.log)"
done
python3 scripts/bench/kernel_adamw_pytorch.py >"$out/adamw_pytorch.jsonl" 2>&1 || echo "kernel_adamw_pytorch.py failed"

python3 scripts/gpu/table.py --merge-to "$out/bench.json" --pytorch "$out/adamw_pytorch.jsonl" \
  "$build"/bench-json/*.json | tee "$out/table.md"
fi

if [[ $stage == train || $stage == all ]]; then
echo "== fused vs unfused training"
mt=${MEDTRAIN_BIN:-$root/build-cuda/medtrain}
if [[ ! -x $mt ]]; then
  echo "fused_train_check: skipped: no CUDA medtrain binary at $mt (set MEDTRAIN_BIN)"
elif ! bash scripts/gpu/fused_train_check.sh "$mt" "$build/train-check" cuda >"$out/train_check.log" 2>&1; then
  tail -n 25 "$out/train_check.log"
  echo "fused_train_check: FAILED (train_check.log)"
  test_rc=1
else
  tail -n 21 "$out/train_check.log"
fi
fi
exit $test_rc
