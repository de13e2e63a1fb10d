// libFuzzer target for data/audio's decoder and resampler (torch-free): any
// bytes either decode to finite 16 kHz mono samples or throw DataError. Any
// other exception, a crash, a sanitizer report or a non-finite sample is a
// finding. The decode cap is 30 s: a compressed input expands far beyond
// its size, and the cap (checked while decoding) is what bounds the memory.
#include <cmath>
#include <cstddef>
#include <cstdint>

#include "data/audio/load_audio.h"
#include "data/data_error.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  medtrain::data::audio::DecodeLimits limits;
  limits.max_seconds = 30.0;
  try {
    const auto audio = medtrain::data::audio::load_audio_16k_bytes(data, size, "fuzz input", limits);
    for (float x : audio.samples)
      if (!std::isfinite(x)) __builtin_trap();
  } catch (const medtrain::data::DataError&) {
  }
  return 0;
}
