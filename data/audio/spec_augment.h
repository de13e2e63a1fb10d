#pragma once
// SpecAugment (Park et al. 2019) on a log-mel [n_mels, frames]: frequency and
// time masks filled with 0, about the mean of Whisper's normalised log-mel
// (log_mel.h). Widths are drawn uniformly in [0, max], positions uniformly
// where the mask fits, all from one seed (data/rng.h), so a sample's masks do
// not depend on the thread that makes it.
#include <cstdint>
#include <vector>

#include <torch/types.h>

namespace medtrain::data::audio {

struct SpecAugmentOptions {
  int64_t freq_masks = 2;
  int64_t freq_width = 27;   // mel bins
  int64_t time_masks = 2;
  int64_t time_width = 100;  // frames (10 ms each)
};

struct SpecAugmentMask {
  bool time = false;  // false: mel bins [start, start + width); true: frames
  int64_t start = 0, width = 0;
};

// The masks for a log-mel of n_mels bins whose first `frames` frames hold the
// clip: time masks fall inside the clip, not in the silence padded after it
// (masking silence teaches nothing). A width is at most the axis' size;
// zero-width masks are kept (they mask nothing). Deterministic in the arguments.
std::vector<SpecAugmentMask> draw_spec_augment(const SpecAugmentOptions& options, int64_t n_mels, int64_t frames,
                                               uint64_t seed);

// Draws the masks for mel (float [n_mels, >= frames]) and fills them with 0, in place.
void apply_spec_augment(torch::Tensor& mel, const SpecAugmentOptions& options, int64_t frames, uint64_t seed);

}  // namespace medtrain::data::audio
