#!/usr/bin/env bash
# Builds the libFuzzer + ASan/UBSan targets (clang; tests/fuzz/CMakeLists.txt)
# and runs each for a share of a bounded time. A third goes to the parsers of
# issue 17, a sixth each (of that third) to safetensors, trainer_state.json, the
# YAML config, the manifests, the bundle `infer` loads and the PyTorch weight
# readers, from seeds written by tests/fuzz/parser_seeds.py. Of the rest, the
# model.bin reader takes a sixth; then the DICOM one (half of what remains)
# from a seed corpus of every transfer syntax we decode, the shard one and the
# audio one (a quarter each) from small shards and records, and from small
# WAV, FLAC and Ogg files of each encoding.
#   tests/fuzz/run_fuzz.sh [SECONDS]        (default 90, split as above)
# Environment: FUZZ_BUILD (default build-fuzz), CXX_FUZZ (default clang++-14),
# MEDTRAIN_PYTHON (default .venv/bin/python; writes the seeds, and its torch
# wheel gives fmt and the LibTorch two targets link), FUZZ_JOBS (2),
# FUZZ_SEED (default 1: the same mutations on every run, so a test run is
# reproducible; 0 lets libFuzzer pick one, for exploring).
# Exit status: 0 when no crash was found; libFuzzer's non-zero status otherwise,
# with the crashing input in $FUZZ_BUILD/artifacts/ (reproduce:
# $FUZZ_BUILD/dicom_reader_fuzz $FUZZ_BUILD/artifacts/crash-..., or
# $FUZZ_BUILD/<target> $FUZZ_BUILD/artifacts/<name>/crash-... for the others:
# shard, audio, ct2, safetensors, trainer_state, config, manifest, bundle,
# torch_pickle).
set -euo pipefail
SECONDS_TO_RUN=${1:-90}
# The parser targets (issue 17) share a third, at least 1 s each.
PARSER_SECONDS=$(( SECONDS_TO_RUN / 18 ))
[ "$PARSER_SECONDS" -ge 1 ] || PARSER_SECONDS=1
SECONDS_TO_RUN=$(( SECONDS_TO_RUN > 6 * PARSER_SECONDS ? SECONDS_TO_RUN - 6 * PARSER_SECONDS : 1 ))
# The CTranslate2 model.bin reader's fuzzer takes a sixth of the time (at least
# 1 s); the others share the rest as described above.
CT2_SECONDS=$(( SECONDS_TO_RUN / 6 ))
[ "$CT2_SECONDS" -ge 1 ] || CT2_SECONDS=1
SECONDS_TO_RUN=$(( SECONDS_TO_RUN > CT2_SECONDS ? SECONDS_TO_RUN - CT2_SECONDS : 1 ))
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
BUILD=${FUZZ_BUILD:-$ROOT/build-fuzz}
CXX_FUZZ=${CXX_FUZZ:-clang++-14}
PY=${MEDTRAIN_PYTHON:-$ROOT/.venv/bin/python}

command -v "$CXX_FUZZ" >/dev/null || { echo "run_fuzz.sh: $CXX_FUZZ not found (Debian: clang-14 libclang-rt-14-dev)" >&2; exit 2; }
# fmt (header-only) comes from the torch wheel of $PY when the system has none.
TORCH_INCLUDE=$("$PY" -c 'import os, torch; print(os.path.join(os.path.dirname(torch.__file__), "include"))' 2>/dev/null || true)
cmake -S "$ROOT/tests/fuzz" -B "$BUILD" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo \
      -DCMAKE_CXX_COMPILER="$CXX_FUZZ" -DMEDTRAIN_FUZZ=ON -DMEDTRAIN_TORCH_INCLUDE="$TORCH_INCLUDE" >/dev/null
cmake --build "$BUILD" -j"${FUZZ_JOBS:-2}"

# Seeds: one small file per transfer syntax and layout, plus pydicom's bundled
# real-world files; libFuzzer mutates from there. Large files only slow it down.
SEEDS="$BUILD/seeds"
if [ ! -d "$SEEDS" ]; then
  "$PY" "$ROOT/tests/data/dicom_corpus.py" "$BUILD/seed_src" --bundled >/dev/null
  mkdir -p "$SEEDS"
  find "$BUILD/seed_src" -name '*.dcm' -size -64k -exec cp {} "$SEEDS/" \;
  # Sequences nested at, past and far past the limit (Note [Nesting before parsing]).
  "$PY" "$ROOT/tests/fuzz/deep_nesting_seeds.py" "$SEEDS"
fi
# -rss_limit_mb: the decoder refuses headers promising absurd sizes long before
# this, and any single allocation over it is a finding too (DCMTK reserves a
# value's declared length before reading it: the pre-scan refuses lengths far
# past the end, Note [Declared lengths], in plain and deflated data sets);
# -timeout: one input taking 10 s is a hang. The growing corpus is kept in
# $BUILD/corpus so later runs start where this one stopped.
SEED=${FUZZ_SEED:-1}
DICOM_SECONDS=$(( (SECONDS_TO_RUN + 1) / 2 ))
AUDIO_SECONDS=$(( (SECONDS_TO_RUN - DICOM_SECONDS) / 2 ))
SHARD_SECONDS=$(( SECONDS_TO_RUN - DICOM_SECONDS - AUDIO_SECONDS ))
[ "$SHARD_SECONDS" -ge 1 ] || SHARD_SECONDS=1
[ "$AUDIO_SECONDS" -ge 1 ] || AUDIO_SECONDS=1
# fuzz TARGET CORPUS SEEDS SECONDS ARTIFACTS [LSAN_OPTIONS]: one bounded
# libFuzzer run. Every fuzzer runs even after one finds a crash; the script
# exits with the first failing status.
STATUS=0
fuzz() {
  local target=$1 corpus=$2 seeds=$3 seconds=$4 artifacts=$5 lsan=${6:-${LSAN_OPTIONS:-}} status
  mkdir -p "$corpus" "$artifacts"
  set +e
  LSAN_OPTIONS="$lsan" "$BUILD/$target" "$corpus" "$seeds" \
    -seed="$SEED" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 -max_len=65536 \
    -artifact_prefix="$artifacts" -print_final_stats=1 2>&1 | tail -n 25
  status=${PIPESTATUS[0]}
  set -e
  if [ "$STATUS" -eq 0 ]; then STATUS=$status; fi
}
fuzz dicom_reader_fuzz "$BUILD/corpus" "$SEEDS" "$DICOM_SECONDS" "$BUILD/artifacts/"

# Shard seeds (first byte: 0 = a whole shard, 1 = one record; see the target).
SHARD_SEEDS="$BUILD/shard_seeds"
if [ ! -d "$SHARD_SEEDS" ]; then
  mkdir -p "$SHARD_SEEDS"
  PYTHONPATH="$ROOT/tests/integration" "$PY" - "$SHARD_SEEDS" <<'PY'
import sys, numpy as np, shard_py
out = sys.argv[1]
rng = np.random.default_rng(0)
for n in (1, 3):
    recs = [(f"p{i}.dcm", i % 2, rng.integers(-1024, 3000, (4, 5)).astype(np.int16)) for i in range(n)]
    shard_py.write_shard(f"{out}/tmp.shard", recs)
    data = open(f"{out}/tmp.shard", "rb").read()
    open(f"{out}/shard{n}", "wb").write(b"\x00" + data)
    off, length, _, _ = shard_py.read_index(data)[0]
    open(f"{out}/record{n}", "wb").write(b"\x01" + data[off:off + length])
# Version 2: a volume with its mask, and a 2D image with one.
volume = rng.integers(-1024, 3000, (2, 4, 5)).astype(np.int16)
open(f"{out}/record_volume", "wb").write(
    b"\x01" + shard_py.encode_record("v", 0, volume, (volume > 0).astype(np.uint8), (2.5, 0.7, 0.7)))
open(f"{out}/record_mask", "wb").write(
    b"\x01" + shard_py.encode_record("m", 1, volume[0], np.ones((2, 5), np.uint8)))
import os; os.remove(f"{out}/tmp.shard")
PY
fi
fuzz shard_reader_fuzz "$BUILD/shard_corpus" "$SHARD_SEEDS" "$SHARD_SECONDS" "$BUILD/artifacts/shard/"

# Audio seeds: one small file per encoding (tests/fuzz/audio_seeds.py).
AUDIO_SEEDS="$BUILD/audio_seeds"
[ -d "$AUDIO_SEEDS" ] || "$PY" "$ROOT/tests/fuzz/audio_seeds.py" "$AUDIO_SEEDS"
# Leaks inside libsndfile's codec libraries are theirs (tests/fuzz/audio_lsan.supp).
fuzz audio_decoder_fuzz "$BUILD/audio_corpus" "$AUDIO_SEEDS" "$AUDIO_SECONDS" "$BUILD/artifacts/audio/" \
  "suppressions=$ROOT/tests/fuzz/audio_lsan.supp${LSAN_OPTIONS:+:$LSAN_OPTIONS}"
# model.bin seeds: tiny Whisper models written by ctranslate2's own writer
# (float32, float16, int8, int16, a heavily aliased one) and a hand-built file
# (tests/fuzz/ct2_model_seeds.py). Crashes: $FUZZ_BUILD/artifacts/ct2/
# (reproduce: $FUZZ_BUILD/ct2_model_fuzz $FUZZ_BUILD/artifacts/ct2/crash-...).
CT2_SEEDS="$BUILD/ct2_seeds"
[ -d "$CT2_SEEDS" ] || "$PY" "$ROOT/tests/fuzz/ct2_model_seeds.py" "$CT2_SEEDS"
fuzz ct2_model_fuzz "$BUILD/ct2_corpus" "$CT2_SEEDS" "$CT2_SECONDS" "$BUILD/artifacts/ct2/"

# The parsers of issue 17: seeds per target (tests/fuzz/parser_seeds.py), each
# target's corpus in $BUILD/<name>_corpus, crashes in $BUILD/artifacts/<name>/.
PARSER_SEEDS="$BUILD/parser_seeds"
[ -d "$PARSER_SEEDS" ] || "$PY" "$ROOT/tests/fuzz/parser_seeds.py" "$PARSER_SEEDS"
for name in safetensors trainer_state config manifest bundle; do
  fuzz "${name}_fuzz" "$BUILD/${name}_corpus" "$PARSER_SEEDS/$name" "$PARSER_SECONDS" "$BUILD/artifacts/$name/"
done
# LibTorch's zip reader leaks on a malformed zip (tests/fuzz/torch_lsan.supp).
fuzz torch_pickle_fuzz "$BUILD/torch_pickle_corpus" "$PARSER_SEEDS/torch_pickle" "$PARSER_SECONDS" \
  "$BUILD/artifacts/torch_pickle/" "suppressions=$ROOT/tests/fuzz/torch_lsan.supp${LSAN_OPTIONS:+:$LSAN_OPTIONS}"
exit "$STATUS"
