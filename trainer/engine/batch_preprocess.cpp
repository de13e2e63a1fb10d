#include "trainer/engine/batch_preprocess.h"

#include <ATen/ATen.h>
#include <c10/util/Exception.h>

#include "data/dicom/raw_sample.h"
#include "kernels/image_preprocess.h"

namespace medtrain::engine {

at::Tensor batch_images(const data::Batch& batch, bool channels_last) {
  if (!batch.preprocess.defined()) return batch.images;
  const at::Tensor& p = batch.preprocess;
  TORCH_CHECK(p.device().is_cpu() && p.dim() == 2 && p.size(0) == batch.images.size(0) &&
                  p.size(1) == data::kRawParams,
              "raw batch: parameters must be CPU [", batch.images.size(0), ", ", static_cast<int64_t>(data::kRawParams),
              "], got ", p.sizes(), " on ", p.device());
  const at::Tensor f = p.to(at::kFloat);
  auto col = [&](data::RawParam k) { return f.select(1, k).contiguous(); };
  kernels::PreprocessParams k;
  k.slope = col(data::kRawSlope);
  k.intercept = col(data::kRawIntercept);
  k.window_center = col(data::kRawCenter);
  k.window_width = col(data::kRawWidth);
  k.flip = col(data::kRawFlip);
  k.gain = col(data::kRawGain);
  k.bias = col(data::kRawBias);
  // One mean and std per run (the dataset's options): every row holds them.
  const at::Tensor mean = p.select(1, data::kRawMean), std = p.select(1, data::kRawStd);
  k.mean = mean[0].item<double>();
  k.std = std[0].item<double>();
  TORCH_CHECK(mean.eq(k.mean).all().item<bool>() && std.eq(k.std).all().item<bool>(),
              "raw batch: samples disagree on the normalisation mean/std");
  k.channels_last = channels_last;
  return kernels::preprocess_images(batch.images, k);
}

}  // namespace medtrain::engine
