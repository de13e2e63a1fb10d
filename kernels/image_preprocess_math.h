#pragma once
// The per-pixel math of the image preprocessing, shared by the CUDA kernel and
// the CPU reference so the two cannot drift. Plain float arithmetic; the fma
// calls fix the rounding so both paths give the same bits.
#include <cmath>
#include <cstdint>

#include "kernels/host_device.h"
#include "kernels/image_preprocess_cuda.h"

namespace medtrain::kernels::detail {

// One sample's parameters, read once per output row.
struct SampleParams {
  float slope, intercept, low, width, gain, bias;
  int32_t flip, crop_y, crop_x;
};

MEDTRAIN_HD SampleParams load_sample(const float* fp, const int32_t* ip, int64_t n_total, int64_t n) {
  return {fp[kSlope * n_total + n], fp[kIntercept * n_total + n], fp[kLow * n_total + n],
          fp[kWidth * n_total + n],  fp[kGain * n_total + n],      fp[kBias * n_total + n],
          ip[kFlip * n_total + n],   ip[kCropY * n_total + n],     ip[kCropX * n_total + n]};
}

// fp32 value of output pixel ox of a row whose source row starts at `src_row`
// (raw + (n*h + crop_y + oy) * w), before the dtype cast.
template <typename In>
MEDTRAIN_HD float preprocess_pixel(const In* src_row, const SampleParams& p, const PreprocessShape& s,
                                   int64_t ox) {
  const int64_t sx = p.crop_x + (p.flip ? s.out_w - 1 - ox : ox);
  const float x = static_cast<float>(src_row[sx]);
  const float hu = fmaf(x, p.slope, p.intercept);
  float v = (hu - p.low) / p.width;
  v = fminf(fmaxf(v, 0.f), 1.f);
  v = fmaf(v, p.gain, p.bias);
  return (v - s.mean) / s.std;
}

// Offset of element (n, c, oy, ox) in the output, NCHW or NHWC memory.
MEDTRAIN_HD int64_t preprocess_out_index(const PreprocessShape& s, int64_t n, int64_t c,
                                         int64_t oy, int64_t ox) {
  return s.channels_last ? ((n * s.out_h + oy) * s.out_w + ox) * s.channels + c
                         : ((n * s.channels + c) * s.out_h + oy) * s.out_w + ox;
}

}  // namespace medtrain::kernels::detail
