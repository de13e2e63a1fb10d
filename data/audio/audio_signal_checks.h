#pragma once
// What the decoder checks in every block of interleaved source samples, before
// channels are averaged (a clipped left channel must not hide in a mean):
// NaN/Inf and magnitudes past kMaxMagnitude (errors: the log-mel of one NaN is
// NaN everywhere after the max),
// the peak, and clipping. Torch-free.
//
// Clipping is counted as runs: a sample at full scale (|x| >= kFullScale) counts
// only inside a run of at least kClipRun consecutive such samples of one
// channel. A clipped waveform has flat tops; a loud but clean one touches full
// scale for a sample or two at its peaks.
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace medtrain::data::audio {

constexpr float kFullScale = 0.999f;
constexpr int kClipRun = 3;
// A float sample beyond this (80 dB over full scale) is corrupt data, not
// loud audio; left in, the resampler's sums overflow to infinity.
constexpr float kMaxMagnitude = 1e4f;
constexpr float kSilentPeak = 1e-4f;       // -80 dBFS: below 16-bit dither
constexpr double kClipWarnFraction = 1e-3;  // warn past 0.1 % of samples

class SignalChecks {
 public:
  explicit SignalChecks(int channels);
  // `frames` frames of `channels` interleaved samples, starting at source
  // frame `first_frame`. Throws DataError "<name>: NaN sample at 1.234 s
  // (channel c): ..." on the first non-finite or out-of-range sample.
  void scan(const float* interleaved, size_t frames, int64_t first_frame, int sample_rate,
            const std::string& name);

  float peak() const { return peak_; }
  size_t clipped() const { return clipped_; }

 private:
  std::vector<int> run_;  // current full-scale run length per channel
  float peak_ = 0.0f;
  size_t clipped_ = 0;
};

// The one-line warnings for a decoded file (empty when clean): silent,
// clipped (count and share), truncated (fewer frames than the header
// declares; `frames_declared` <= 0 when it declares none).
std::vector<std::string> signal_warnings(const std::string& name, float peak, size_t clipped, size_t source_samples,
                                         int64_t frames_read, int64_t frames_declared);

}  // namespace medtrain::data::audio
