// data/audio/resample + load_audio: files at 8, 22.05, 44.1 and 48 kHz, stereo,
// come out as 16 kHz mono whose samples match the same tones computed
// directly at 16 kHz (an independent reference: the formula), with the
// length soxr promises and what lies above 8 kHz removed.
#include <gtest/gtest.h>

#include <cmath>
#include <string>
#include <vector>

#include "data/audio/load_audio.h"
#include "data/audio/resample.h"
#include "tests/common/temp_dir.h"
#include "tests/data/audio/audio_files.h"

namespace medtrain::data::audio {
namespace {

using medtrain::testing::TempDir;
using namespace medtrain::data::testing;

// Two in-band tones (the stereo mean of tone()'s 0.1 rad channel offset).
double expected(double t, int channels) {
  double v = 0;
  for (int c = 0; c < channels; ++c)
    v += 0.3 * std::sin(2 * M_PI * 440.0 * t + 0.1 * c) + 0.2 * std::sin(2 * M_PI * 3000.0 * t + 0.1 * c);
  return v / channels;
}

std::vector<float> two_tones(int rate, double seconds, int channels) {
  std::vector<float> a = tone(440.0, rate, seconds, channels, 0.3), b = tone(3000.0, rate, seconds, channels, 0.2);
  for (size_t i = 0; i < a.size(); ++i) a[i] += b[i];
  return a;
}

// Largest error away from the ends (where the filter sees the cut).
double interior_error(const std::vector<float>& out, int channels) {
  double worst = 0;
  for (size_t k = 800; k + 800 < out.size(); ++k)
    worst = std::max(worst, std::fabs(out[k] - expected(static_cast<double>(k) / kWhisperSampleRate, channels)));
  return worst;
}

TEST(Resample, CommonRatesStereoTo16kMono) {
  TempDir dir;
  for (int rate : {8000, 22050, 44100, 48000}) {
    SCOPED_TRACE(rate);
    const std::string path = dir.str("t" + std::to_string(rate) + ".wav");
    write_audio(path, SF_FORMAT_WAV | SF_FORMAT_FLOAT, rate, 2, two_tones(rate, 1.0, 2));
    const LoadedAudio a = load_audio_16k(path);
    EXPECT_EQ(a.source_rate, rate);
    EXPECT_EQ(a.source_channels, 2);
    EXPECT_EQ(a.samples.size(), 16000u);  // round(rate * 1 s * 16000 / rate)
    EXPECT_LT(interior_error(a.samples, 2), 2e-4);
  }
}

TEST(Resample, OutputLengthIsRoundedRatio) {
  const std::vector<float> in(44101, 0.25f);
  EXPECT_EQ(resample_mono(in, 44100, 16000, "x").size(), static_cast<size_t>(std::lround(44101 * 16000.0 / 44100)));
  EXPECT_EQ(resample_mono(in, 16000, 16000, "x"), in);
}

TEST(Resample, AboveNyquistIsRemoved) {
  // 12 kHz at 48 kHz has no place at 16 kHz: it must not fold back to 4 kHz.
  const std::vector<float> in = tone(12000.0, 48000, 0.5, 1, 0.5);
  const std::vector<float> out = resample_mono(in, 48000, 16000, "x");
  float peak = 0;
  for (size_t k = 400; k + 400 < out.size(); ++k) peak = std::max(peak, std::fabs(out[k]));
  EXPECT_LT(peak, 1e-4f);  // < -74 dB re the input's 0.5
}

}  // namespace
}  // namespace medtrain::data::audio
