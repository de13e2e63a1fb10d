#include "data/audio/audio_signal_checks.h"

#include <cmath>
#include <string>
#include <vector>

#include <fmt/format.h>

#include "data/data_error.h"

namespace medtrain::data::audio {

SignalChecks::SignalChecks(int channels) : run_(static_cast<size_t>(channels), 0) {}

void SignalChecks::scan(const float* interleaved, size_t frames, int64_t first_frame, int sample_rate,
                        const std::string& name) {
  const size_t channels = run_.size();
  for (size_t f = 0; f < frames; ++f) {
    for (size_t c = 0; c < channels; ++c) {
      const float x = interleaved[f * channels + c];
      if (!std::isfinite(x)) {
        const double at = static_cast<double>(first_frame + static_cast<int64_t>(f)) / sample_rate;
        throw DataError(fmt::format("{}: {} sample at {:.3f} s (channel {}): the audio is corrupt",
                                    name, std::isnan(x) ? "NaN" : "infinite", at, c));
      }
      const float a = std::fabs(x);
      if (a > kMaxMagnitude) {
        const double at = static_cast<double>(first_frame + static_cast<int64_t>(f)) / sample_rate;
        throw DataError(fmt::format("{}: sample {:g} at {:.3f} s (channel {}) is over {:g} times full scale: the audio is "
                                    "corrupt", name, x, at, c, kMaxMagnitude));
      }
      if (a > peak_) peak_ = a;
      int& run = run_[c];
      if (a < kFullScale) {
        run = 0;
        continue;
      }
      ++run;
      if (run == kClipRun) clipped_ += kClipRun;
      else if (run > kClipRun) ++clipped_;
    }
  }
}

std::vector<std::string> signal_warnings(const std::string& name, float peak, size_t clipped, size_t source_samples,
                                         int64_t frames_read, int64_t frames_declared) {
  std::vector<std::string> out;
  if (peak < kSilentPeak)
    out.push_back(fmt::format("{}: silent (peak {:.1f} dBFS)", name,
                              peak > 0 ? 20.0 * std::log10(static_cast<double>(peak)) : -INFINITY));
  const double share = source_samples ? static_cast<double>(clipped) / source_samples : 0.0;
  if (clipped > 0 && share >= kClipWarnFraction)
    out.push_back(fmt::format("{}: clipped ({} samples at full scale, {:.2f} %)", name, clipped, 100.0 * share));
  if (frames_declared > 0 && frames_read < frames_declared)
    out.push_back(fmt::format("{}: truncated (header declares {} frames, {} decoded)", name, frames_declared,
                              frames_read));
  return out;
}

}  // namespace medtrain::data::audio
