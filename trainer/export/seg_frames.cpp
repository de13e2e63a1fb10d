#include "trainer/export/seg_frames.h"

#include <ATen/ops/eq.h>

namespace medtrain::exporter::detail {

at::Tensor SegmentFrames::bytes(int64_t segment) const {
  if (fractional_) return probabilities_[segment].contiguous();
  return labels_.eq(segment).to(at::kByte).contiguous();
}

std::vector<uint8_t> pack_binary_frames(const SegmentFrames& frames) {
  std::vector<uint8_t> packed;
  size_t n = 0;  // pixel index over all frames so far
  for (int64_t s = 1; s <= frames.segments(); ++s) {
    const at::Tensor b = frames.bytes(s);
    packed.resize((n + static_cast<size_t>(b.numel()) + 7) / 8, 0);
    const uint8_t* v = b.data_ptr<uint8_t>();
    for (int64_t i = 0; i < b.numel(); ++i, ++n) {
      if (v[i] != 0) packed[n >> 3] |= static_cast<uint8_t>(1u << (n & 7));
    }
  }
  if (packed.size() % 2 != 0) packed.push_back(0);
  return packed;
}

}  // namespace medtrain::exporter::detail
