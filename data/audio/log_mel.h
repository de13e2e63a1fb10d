#pragma once
// Whisper's log-mel spectrogram in LibTorch ops, so the same code runs on CPU
// and CUDA tensors (the tensors stay on the extractor's device).
//
//   |STFT|^2: n_fft 400, hop 160, periodic Hann window, centred frames
//             (the clip reflect-padded by 200 at the start)
//   mel:      slaney_mel_filterbank(16000, 400, n_mels) @ power
//   log:      log10(max(mel, 1e-10)); then max(x, clip_max - 8); (x + 4) / 4
//
// Note [Padding convention]: we follow openai-whisper (transcribe(), and
// pad_or_trim(audio) before log_mel_spectrogram for one window): the clip is
// followed by silence — zero SAMPLES before the STFT — so a frame that reaches
// past the end sees zeros, the last window is filled with the log-mel of silence
// (max(-10, clip_max - 8) + 4) / 4, and clip_max is the largest log10 mel
// value of every frame that holds a sample of the clip. faster-whisper instead
// computes frames of the clip plus 160 zeros and pads the last window with
// 0.0 in the normalised space; frames() below equals its FeatureExtractor
// output (padding=160) except where the max sits in the last frame's 40-200
// trailing samples, and equals its FeatureExtractor(padding=480000), which is
// openai's convention, exactly. docs/audio.md.
//
// Note [Silent tail]: frame t covers samples [160 t - 200, 160 t + 200) (the
// start reflect-padded from samples 1..200, zeros included when the clip is
// shorter), so frames from frames_touching(N) = (N + 199) / 160 + 1 on see only
// zeros: power 0, log10 -10, a constant once normalised. windows() runs the
// STFT over the touching frames only (they see exactly the samples they would
// in the fully padded signal) and fills the rest of the last window with that
// constant: a 5-s clip costs 502 frames, not 3000. Including the silent frames
// in the max changes nothing, as every log10 value is >= -10.
#include <cstdint>

#include <torch/torch.h>

namespace medtrain::data::audio {

constexpr int64_t kWhisperNFft = 400;
constexpr int64_t kWhisperHop = 160;
constexpr int64_t kWhisperWindowFrames = 3000;  // 30 s
constexpr double kLogMelFloor = 1e-10;
constexpr double kLogMelRange = 8.0;  // decades kept below the clip's maximum

// Immutable after construction: any number of threads may call it (on CUDA,
// work goes to each caller's current stream).
class WhisperLogMel {
 public:
  // n_mels: 80 (tiny ... large-v2) or 128 (large-v3).
  explicit WhisperLogMel(torch::Device device = torch::kCPU, int64_t n_mels = 80);

  // wave: float [N], N >= 1, 16 kHz mono, any device (moved to ours).
  // Returns float32 [n_mels, N / 160 + 1] on device(): the clip's frames.
  torch::Tensor frames(const torch::Tensor& wave) const;
  // Returns float32 [W, n_mels, 3000]: W = max(1, ceil((N / 160) / 3000)) 30-s
  // windows, window w = frames [3000 w, 3000 w + 3000), silence past the clip.
  torch::Tensor windows(const torch::Tensor& wave) const;

  const torch::Tensor& filters() const { return filters_; }  // [n_mels, 201]
  torch::Device device() const { return filters_.device(); }

 private:
  // log10 mel of the first `n_frames` frames of the clip followed by zeros,
  // un-normalised [n_mels, n_frames].
  torch::Tensor log10_mel(const torch::Tensor& wave, int64_t n_frames) const;
  // log10 mel of a frame of zeros: 0-dim, -10.
  torch::Tensor silence_log10_mel() const;
  torch::Tensor normalise(const torch::Tensor& log_mel, const torch::Tensor& clip_max) const;

  torch::Tensor filters_;
  torch::Tensor window_;
};

}  // namespace medtrain::data::audio
