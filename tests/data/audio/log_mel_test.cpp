// data/audio/mel_filterbank and log_mel: the Slaney scale's fixed points,
// filter shapes, frame and window counts, the silence fill of the last window,
// and CUDA against CPU (skips without a device). Value parity with the
// reference implementation is whisper_logmel_parity_test.py.
#include <gtest/gtest.h>
#include <torch/torch.h>

#include <algorithm>
#include <cmath>
#include <vector>

#include "data/audio/log_mel.h"
#include "data/audio/mel_filterbank.h"
#include "data/data_error.h"

namespace medtrain::data::audio {
namespace {

torch::Tensor sine(double freq, int64_t n, double amplitude = 0.5) {
  return (torch::arange(n, torch::kFloat64) * (2 * M_PI * freq / 16000.0)).sin().mul(amplitude).to(torch::kFloat32);
}

TEST(MelFilterbank, SlaneyScale) {
  EXPECT_DOUBLE_EQ(hz_to_slaney_mel(500.0), 7.5);
  EXPECT_DOUBLE_EQ(hz_to_slaney_mel(1000.0), 15.0);
  EXPECT_NEAR(hz_to_slaney_mel(8000.0), 45.245640471924965, 1e-12);  // faster-whisper's max_mel
  for (double hz : {0.0, 123.0, 999.0, 1000.0, 4321.0, 8000.0}) EXPECT_NEAR(slaney_mel_to_hz(hz_to_slaney_mel(hz)), hz, 1e-9);
}

TEST(MelFilterbank, TrianglesWithSlaneyArea) {
  const std::vector<float> w = slaney_mel_filterbank(16000, 400, 80);
  ASSERT_EQ(w.size(), 80u * 201u);
  for (int m = 0; m < 80; ++m) {
    // Area in Hz (bin width 40 Hz) is 1 for a triangle of height 2/(hi-lo)
    // sampled finely; bins are coarse against the low filters, so only the
    // high ones (wider than 5 bins) are held to it.
    double area = 0;
    int nonzero = 0;
    for (int k = 0; k < 201; ++k) {
      EXPECT_GE(w[m * 201 + k], 0.0f);
      area += w[m * 201 + k] * 40.0;
      nonzero += w[m * 201 + k] > 0;
    }
    EXPECT_GT(nonzero, 0) << "mel " << m;
    if (nonzero > 5) EXPECT_NEAR(area, 1.0, 0.02) << "mel " << m;
  }
  EXPECT_THROW(slaney_mel_filterbank(16000, 0, 80), DataError);
}

TEST(WhisperLogMel, FrameAndWindowCounts) {
  const WhisperLogMel mel;
  for (int64_t n : {1, 159, 160, 161, 16000, 479999, 480000, 480160, 480161, 960000, 960161}) {
    SCOPED_TRACE(n);
    const torch::Tensor x = sine(440.0, n);
    EXPECT_EQ(mel.frames(x).sizes(), (std::vector<int64_t>{80, n / 160 + 1}));
    const int64_t w = std::max<int64_t>(1, (n / 160 + 2999) / 3000);
    EXPECT_EQ(mel.windows(x).sizes(), (std::vector<int64_t>{w, 80, 3000}));
  }
}

TEST(WhisperLogMel, WindowsAreFramesThenSilence) {
  const WhisperLogMel mel;
  const int64_t n = 16000 * 35 + 77;  // two windows
  const torch::Tensor x = sine(440.0, n) + sine(2500.0, n, 0.1);
  const torch::Tensor frames = mel.frames(x), windows = mel.windows(x);
  const int64_t t = frames.size(1);
  const torch::Tensor joined = torch::cat({windows[0], windows[1]}, 1);
  EXPECT_TRUE(torch::allclose(joined.narrow(1, 0, t), frames, 0, 1e-6));
  // Past the clip's frames that still see a sample of it: the log-mel of
  // silence, (max(-10, max - 8) + 4) / 4, i.e. the floor of this clip.
  const float floor_value = frames.min().item<float>();
  const torch::Tensor silence = joined.narrow(1, t + 2, 6000 - t - 2);
  EXPECT_EQ(silence.min().item<float>(), floor_value);
  EXPECT_EQ(silence.max().item<float>(), floor_value);
}

// windows() before Note [Silent tail]: the clip padded with zero samples to
// every frame of its windows (and every frame touching it), all of them through
// the STFT, written out with plain ops so it shares no code with log_mel.cpp.
torch::Tensor padded_windows_reference(const WhisperLogMel& mel, const torch::Tensor& wave) {
  const int64_t n = wave.size(0);
  const int64_t count = std::max<int64_t>(1, (n / 160 + 2999) / 3000);
  const int64_t total = count * 3000;
  const int64_t frames = std::max(total, (n + 199) / 160 + 1);
  // 400 zeros beyond the last frame's reach: stft's end reflection mirrors zeros.
  const torch::Tensor x = torch::constant_pad_nd(wave, {0, std::max<int64_t>(frames * 160 - n, 0) + 400}, 0.0);
  const torch::Tensor spec = torch::stft(x, 400, 160, 400, torch::hann_window(400, /*periodic=*/true),
                                         /*center=*/true, "reflect", false, true, true);
  const torch::Tensor log_mel =
      torch::matmul(mel.filters(), spec.narrow(1, 0, frames).abs().square()).clamp_min(1e-10).log10();
  const torch::Tensor norm = (torch::maximum(log_mel, log_mel.max() - 8.0) + 4.0) / 4.0;
  return norm.narrow(1, 0, total).reshape({80, count, 3000}).permute({1, 0, 2}).contiguous();
}

TEST(WhisperLogMel, SilentTailEqualsFullyPaddedWindows) {
  const WhisperLogMel mel;
  torch::manual_seed(0);
  // 1 sample ... 61 s: the reflect padding of tiny clips, frames that hold the
  // clip's last samples and zeros, clips ending at and just past 30 s, and the
  // silent tail of a last window after full ones.
  for (int64_t n : {1, 159, 160, 161, 400, 80000, 479840, 480000, 480160, 976000}) {
    // A rising envelope puts the clip's max at its end, in the frames that
    // mix clip and zeros (past the window end for n = 480000).
    const torch::Tensor rising = torch::linspace(0.01, 1.0, n);
    for (const torch::Tensor& x : {sine(440.0, n) + 0.05 * torch::randn({n}), rising * sine(3000.0, n)}) {
      SCOPED_TRACE(n);
      const torch::Tensor ours = mel.windows(x), reference = padded_windows_reference(mel, x);
      ASSERT_EQ(ours.sizes(), reference.sizes());
      EXPECT_LE((ours - reference).abs().max().item<float>(), 1e-6f);
    }
  }
}

TEST(WhisperLogMel, ToneLandsInItsMelBand) {
  const WhisperLogMel mel;
  const torch::Tensor f = mel.frames(sine(1000.0, 16000));
  const int64_t band = f.narrow(1, 10, 80).mean(1).argmax().item<int64_t>();
  // The filter with the largest weight at the 1 kHz bin (k = 25).
  const int64_t expected = mel.filters().select(1, 25).argmax().item<int64_t>();
  EXPECT_EQ(band, expected);
}

TEST(WhisperLogMel, SilentClipIsConstant) {
  // All mel values clamp at 1e-10: log10 -10, max -10, so (-10 + 4) / 4.
  const WhisperLogMel mel;
  const torch::Tensor w = mel.windows(torch::zeros({16000}));
  EXPECT_EQ(w.min().item<float>(), -1.5f);
  EXPECT_EQ(w.max().item<float>(), -1.5f);
}

TEST(WhisperLogMel, RefusesEmptyOrNot1D) {
  const WhisperLogMel mel;
  EXPECT_THROW(mel.frames(torch::zeros({0})), DataError);
  EXPECT_THROW(mel.windows(torch::zeros({2, 100})), DataError);
}

TEST(WhisperLogMel, CudaMatchesCpu) {
  if (!torch::cuda::is_available()) GTEST_SKIP() << "no CUDA device";
  const WhisperLogMel cpu, gpu(torch::kCUDA);
  torch::manual_seed(0);
  const int64_t n = 16000 * 31 + 5;
  const torch::Tensor x = sine(300.0, n) + 0.05 * torch::randn({n});
  const torch::Tensor a = cpu.windows(x), b = gpu.windows(x);
  EXPECT_TRUE(b.is_cuda());
  EXPECT_LE((a - b.cpu()).abs().max().item<float>(), 1e-4f);
  EXPECT_LE((cpu.frames(x) - gpu.frames(x.cuda()).cpu()).abs().max().item<float>(), 1e-4f);
}

}  // namespace
}  // namespace medtrain::data::audio
