#include "data/audio/load_audio.h"

#include <string>
#include <utility>

#include "data/audio/resample.h"

namespace medtrain::data::audio {
namespace {

LoadedAudio to_16k(DecodedAudio&& d, const std::string& name) {
  LoadedAudio out;
  out.samples = resample_mono(d.samples, d.sample_rate, kWhisperSampleRate, name);
  out.source_rate = d.sample_rate;
  out.source_channels = d.channels;
  out.format = std::move(d.format);
  out.warnings = std::move(d.warnings);
  return out;
}

}  // namespace

LoadedAudio load_audio_16k(const std::string& path, const DecodeLimits& limits) {
  return to_16k(decode_audio_file(path, limits), path);
}

LoadedAudio load_audio_16k_bytes(const uint8_t* data, size_t size, const std::string& name,
                                 const DecodeLimits& limits) {
  return to_16k(decode_audio_bytes(data, size, name, limits), name);
}

}  // namespace medtrain::data::audio
