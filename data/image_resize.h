#pragma once
// Antialiased bilinear resize of one float image, the filter PyTorch's
// interpolate(mode="bilinear", antialias=True, align_corners=False) and PIL
// use: a triangle stretched by the scale when shrinking, separable, weights
// normalized per output pixel. Written for the one case the data path has
// (a single [H, W] float32 slice), where LibTorch's generic N-D kernel spends
// more time on a 512 -> 256 resize than DCMTK spends decoding the slice.
// Matches LibTorch to float rounding (tests/data/image_resize_test.cpp).
#include <torch/types.h>

#include <cstdint>
#include <functional>

namespace medtrain::data {

// Writes n mapped values of one input row: an elementwise step (intensity
// windowing) done here costs no full-size intermediate image.
using RowMap = std::function<void(const float* in, float* out, int64_t n)>;

// image: float32 [H, W] -> float32 [out_h, out_w]; any sizes >= 1. With `map`,
// the filter reads map(image) instead of image.
torch::Tensor resize_bilinear_antialias(const torch::Tensor& image, int64_t out_h, int64_t out_w,
                                        const RowMap& map = nullptr);

}  // namespace medtrain::data
