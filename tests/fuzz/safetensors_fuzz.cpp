// libFuzzer target for the safetensors layout check
// (models/safetensors_header.h, the byte side of models/safetensors.h): any
// byte string must either be accepted or raise ModelError, never crash, hang,
// over-allocate or read out of bounds (ASan/UBSan). Built by
// tests/fuzz/run_fuzz.sh; seeds are small files written by the safetensors
// package (tests/fuzz/parser_seeds.py).
//
// What is accepted must also be what the reader promises: the entries tile the
// data buffer in order and each holds numel * itemsize bytes; a broken promise
// traps, so a check that lets a bad layout through is a finding too.
#include <cstdint>
#include <string>

#include "models/model_error.h"
#include "models/safetensors_header.h"

namespace models = medtrain::models;

namespace {

uint64_t numel(const models::SafetensorsEntry& e) {
  uint64_t n = 1;
  for (const int64_t d : e.shape) {
    if (d < 0) __builtin_trap();
    n *= static_cast<uint64_t>(d);  // the parser refused any overflow
  }
  return n;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const char* bytes = reinterpret_cast<const char*>(data);
  try {
    const models::SafetensorsLayout layout = models::parse_safetensors_layout(bytes, size, "fuzz");
    if (layout.data_offset < 8 || layout.data_offset > size) __builtin_trap();
    uint64_t covered = 0;
    volatile uint8_t sum = 0;
    for (const auto& e : layout.entries) {
      if (e.dtype == nullptr || e.begin != covered || e.end < e.begin) __builtin_trap();
      if (e.end - e.begin != numel(e) * e.dtype->itemsize) __builtin_trap();
      for (uint64_t i = e.begin; i < e.end; ++i) sum = sum + data[layout.data_offset + i];  // in bounds (ASan)
      covered = e.end;
    }
    if (covered != size - layout.data_offset) __builtin_trap();
  } catch (const models::ModelError&) {
    // the expected outcome for bad input
  }
  return 0;
}
