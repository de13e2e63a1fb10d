#include "data/audio/spec_augment.h"

#include <algorithm>
#include <random>

#include "data/rng.h"

namespace medtrain::data::audio {
namespace {

SpecAugmentMask draw(std::mt19937_64& rng, bool time, int64_t size, int64_t max_width) {
  SpecAugmentMask m;
  m.time = time;
  const int64_t top = std::clamp<int64_t>(max_width, 0, size);
  m.width = static_cast<int64_t>(uniform_below(rng, static_cast<uint64_t>(top) + 1));
  m.start = static_cast<int64_t>(uniform_below(rng, static_cast<uint64_t>(size - m.width) + 1));
  return m;
}

}  // namespace

std::vector<SpecAugmentMask> draw_spec_augment(const SpecAugmentOptions& options, int64_t n_mels, int64_t frames,
                                               uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::vector<SpecAugmentMask> out;
  for (int64_t i = 0; i < options.freq_masks && n_mels > 0; ++i) out.push_back(draw(rng, false, n_mels, options.freq_width));
  for (int64_t i = 0; i < options.time_masks && frames > 0; ++i) out.push_back(draw(rng, true, frames, options.time_width));
  return out;
}

void apply_spec_augment(torch::Tensor& mel, const SpecAugmentOptions& options, int64_t frames, uint64_t seed) {
  TORCH_INTERNAL_ASSERT(mel.dim() == 2, "apply_spec_augment: expected [n_mels, frames], got ", mel.sizes());
  frames = std::min(frames, mel.size(1));
  for (const SpecAugmentMask& m : draw_spec_augment(options, mel.size(0), frames, seed)) {
    if (m.width > 0) mel.narrow(m.time ? 1 : 0, m.start, m.width).zero_();
  }
}

}  // namespace medtrain::data::audio
