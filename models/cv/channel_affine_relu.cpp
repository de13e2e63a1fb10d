#include "models/cv/channel_affine_relu.h"

#include <ATen/ATen.h>
#include <ATen/Parallel.h>

#include <algorithm>
#include <cstdint>

namespace medtrain::models {

namespace {

// Pixels (n, h, w) evenly strided, each pixel's channels contiguous: true for
// a channels_last tensor and for any channel slice of one.
bool pixels_evenly_strided(const at::Tensor& x) {
  return x.dim() == 4 && x.stride(1) == 1 && x.stride(2) == x.size(3) * x.stride(3) &&
         x.stride(0) == x.size(2) * x.stride(2);
}

}  // namespace

at::Tensor channel_affine_relu(const at::Tensor& x, const at::Tensor& scale, const at::Tensor& shift) {
  const bool fast = x.device().is_cpu() && x.scalar_type() == at::kFloat && scale.is_contiguous() &&
                    shift.is_contiguous() && scale.numel() == x.size(1) && pixels_evenly_strided(x);
  if (!fast) {
    at::Tensor out = at::empty(x.sizes(), x.options().memory_format(at::MemoryFormat::ChannelsLast));
    return at::addcmul_out(out, shift.view({1, -1, 1, 1}), x, scale.view({1, -1, 1, 1})).relu_();
  }
  const int64_t channels = x.size(1);
  const int64_t pixels = x.size(0) * x.size(2) * x.size(3);
  const int64_t in_stride = x.stride(3);
  at::Tensor out = at::empty(x.sizes(), x.options().memory_format(at::MemoryFormat::ChannelsLast));
  const float* in = x.const_data_ptr<float>();
  const float* s = scale.const_data_ptr<float>();
  const float* t = shift.const_data_ptr<float>();
  float* o = out.mutable_data_ptr<float>();
  // ~32K values per task: enough work to be worth a thread, small enough to balance.
  const int64_t grain = std::max<int64_t>(1, 32768 / std::max<int64_t>(channels, 1));
  at::parallel_for(0, pixels, grain, [&](int64_t begin, int64_t end) {
    for (int64_t p = begin; p < end; ++p) {
      const float* src = in + p * in_stride;
      float* dst = o + p * channels;
      for (int64_t c = 0; c < channels; ++c) dst[c] = std::max(src[c] * s[c] + t[c], 0.0f);
    }
  });
  return out;
}

}  // namespace medtrain::models
