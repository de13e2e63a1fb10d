#include "data/audio/log_mel.h"

#include <algorithm>
#include <cstdint>
#include <vector>

#include <fmt/format.h>
#include <fmt/ranges.h>
#include <torch/torch.h>

#include "data/audio/mel_filterbank.h"
#include "data/audio/load_audio.h"
#include "data/data_error.h"

namespace medtrain::data::audio {
namespace {

// Frames that hold at least one sample of an N-sample clip: frame t covers
// samples [160 t - 200, 160 t + 200).
int64_t frames_touching(int64_t n) { return (n + kWhisperNFft / 2 - 1) / kWhisperHop + 1; }

int64_t check_wave(const torch::Tensor& wave) {
  if (wave.dim() != 1 || wave.numel() == 0)
    throw DataError(fmt::format("log-mel: expected a non-empty 1-D waveform, got shape {}",
                                fmt::join(wave.sizes().vec(), "x")));
  return wave.size(0);
}

}  // namespace

WhisperLogMel::WhisperLogMel(torch::Device device, int64_t n_mels) {
  std::vector<float> w = slaney_mel_filterbank(kWhisperSampleRate, kWhisperNFft, static_cast<int>(n_mels));
  filters_ = torch::from_blob(w.data(), {n_mels, kWhisperNFft / 2 + 1}, torch::kFloat32).clone().to(device);
  window_ = torch::hann_window(kWhisperNFft, /*periodic=*/true, torch::dtype(torch::kFloat32).device(device));
}

torch::Tensor WhisperLogMel::log10_mel(const torch::Tensor& wave, int64_t n_frames) const {
  const int64_t n = wave.size(0);
  // Zeros after the clip, enough that every wanted frame lies within the
  // padded signal plus the 200 samples stft reflects at its end, and that the
  // reflection mirrors zeros only (Note [Padding convention]).
  const int64_t needed = (n_frames - 1) * kWhisperHop + kWhisperNFft / 2;
  const int64_t zeros = std::max(needed - n, int64_t{0}) + kWhisperNFft;
  torch::Tensor x = wave.to(filters_.device(), torch::kFloat32).contiguous();
  x = torch::constant_pad_nd(x, {0, zeros}, 0.0);
  torch::Tensor spec = torch::stft(x, kWhisperNFft, kWhisperHop, kWhisperNFft, window_, /*center=*/true,
                                   /*pad_mode=*/"reflect", /*normalized=*/false, /*onesided=*/true,
                                   /*return_complex=*/true);
  torch::Tensor power = spec.narrow(1, 0, n_frames).abs().square();  // [201, n_frames]
  return torch::matmul(filters_, power).clamp_min(kLogMelFloor).log10();
}

torch::Tensor WhisperLogMel::silence_log10_mel() const {
  // The same clamp and log10 a silent frame's zero mel power goes through.
  return torch::zeros({}, filters_.options()).clamp_min(kLogMelFloor).log10();
}

torch::Tensor WhisperLogMel::normalise(const torch::Tensor& log_mel, const torch::Tensor& clip_max) const {
  return (torch::maximum(log_mel, clip_max - kLogMelRange) + 4.0) / 4.0;
}

torch::Tensor WhisperLogMel::frames(const torch::Tensor& wave) const {
  const int64_t n = check_wave(wave);
  const torch::Tensor log_mel = log10_mel(wave, frames_touching(n));
  return normalise(log_mel.narrow(1, 0, n / kWhisperHop + 1), log_mel.max());
}

torch::Tensor WhisperLogMel::windows(const torch::Tensor& wave) const {
  const int64_t n = check_wave(wave);
  const int64_t count = std::max<int64_t>(1, (n / kWhisperHop + kWhisperWindowFrames - 1) / kWhisperWindowFrames);
  const int64_t total = count * kWhisperWindowFrames;
  // Note [Silent tail]: only the frames that hold a clip sample go through
  // the STFT; frames past the window end that still touch the clip count for
  // the max, the rest of the window is silence.
  const int64_t touching = frames_touching(n);
  const torch::Tensor log_mel = log10_mel(wave, touching);
  const torch::Tensor clip_max = log_mel.max();
  const int64_t kept = std::min(touching, total);
  const int64_t n_mels = filters_.size(0);
  torch::Tensor out = torch::empty({n_mels, total}, filters_.options());
  out.narrow(1, 0, kept).copy_(normalise(log_mel.narrow(1, 0, kept), clip_max));
  if (kept < total) out.narrow(1, kept, total - kept).fill_(normalise(silence_log10_mel(), clip_max));
  return out.view({n_mels, count, kWhisperWindowFrames}).permute({1, 0, 2}).contiguous();
}

}  // namespace medtrain::data::audio
