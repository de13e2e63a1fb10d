#pragma once
// A file (or bytes) to what Whisper's front end takes: 16 kHz mono float32.
// decode_audio (libsndfile) then resample_mono (libsoxr). Torch-free.
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "data/audio/audio_decode.h"

namespace medtrain::data::audio {

constexpr int kWhisperSampleRate = 16000;

struct LoadedAudio {
  std::vector<float> samples;  // mono, kWhisperSampleRate
  int source_rate = 0;
  int source_channels = 0;
  std::string format;
  std::vector<std::string> warnings;  // from the decoder, one line each
};

// Throws DataError naming the file (audio_decode.h lists the cases).
LoadedAudio load_audio_16k(const std::string& path, const DecodeLimits& limits = {});
LoadedAudio load_audio_16k_bytes(const uint8_t* data, size_t size, const std::string& name,
                                 const DecodeLimits& limits = {});

}  // namespace medtrain::data::audio
