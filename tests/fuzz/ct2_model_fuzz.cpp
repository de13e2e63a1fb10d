// libFuzzer target for the CTranslate2 model.bin reader
// (models/asr/ct2_model_file.h): any byte string must either parse or raise
// ModelError, never crash, hang, over-allocate or read out of bounds
// (ASan/UBSan; run_fuzz.sh caps RSS and single allocations). Built by
// tests/fuzz/run_fuzz.sh; seeds are small model.bin files written by
// ctranslate2's own writer (tests/fuzz/ct2_model_seeds.py).
//
// Both entry points are exercised: bytes from memory, and the same bytes as a
// file (the FILE* path reads incrementally and must check the same lengths).
#include <unistd.h>

#include <cstdint>
#include <cstdio>
#include <string>

#include "models/asr/ct2_model_file.h"
#include "models/model_error.h"

namespace {

namespace asr = medtrain::models::asr;

std::string scratch_path() {
  const char* dir = access("/dev/shm", W_OK) == 0 ? "/dev/shm" : "/tmp";
  return std::string(dir) + "/medtrain_ct2_fuzz_" + std::to_string(getpid()) + ".bin";
}

void touch(const asr::Ct2ModelFile& m) {
  volatile uint64_t sum = 0;
  for (const auto& v : m.variables) {
    sum = sum + v.numel() + v.bytes.size();
    if (v.shape.empty() && v.dtype != asr::Ct2DType::kF32 && v.dtype != asr::Ct2DType::kF16 &&
        v.dtype != asr::Ct2DType::kBF16) {
      sum = sum + static_cast<uint64_t>(v.int_scalar(m.origin));
    }
  }
  for (const auto& a : m.aliases) sum = sum + m.find(a.name)->bytes.size();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  bool parsed = false;
  try {
    touch(asr::parse_ct2_model_bytes(data, size, "fuzz"));
    parsed = true;
  } catch (const medtrain::models::ModelError&) {
    // the expected outcome for bad input
  }
  static const std::string path = scratch_path();
  FILE* f = std::fopen(path.c_str(), "wb");
  if (f == nullptr) return 0;
  if (size > 0) std::fwrite(data, 1, size, f);
  std::fclose(f);
  bool parsed_file = false;
  try {
    touch(asr::read_ct2_model_file(path, {"WhisperSpec", 3}));
    parsed_file = true;
  } catch (const medtrain::models::ModelError&) {
  }
  // The file path adds the spec check; it may refuse what memory accepted, never the reverse.
  if (parsed_file && !parsed) __builtin_trap();
  return 0;
}
