#include "data/dicom/raw_sample.h"

#include <cstring>

#include "data/shard/shard_format.h"

namespace medtrain::data {

std::optional<Sample> raw_sample(const torch::Tensor& hu, double slope, double intercept,
                                 const DicomDatasetOptions& o, const Augmentation& a) {
  TORCH_CHECK(hu.dim() == 2 && hu.scalar_type() == torch::kFloat32, "raw_sample expects float32 [H, W], got ",
              hu.sizes(), " ", hu.scalar_type());
  const int64_t h = hu.size(0), w = hu.size(1);
  if (h != o.image_size || w != o.image_size || !a.warp.identity() || !a.patch_origin.empty()) return std::nullopt;
  const torch::Tensor values = hu.contiguous();
  shard::Record r;
  shard::set_pixels(r, values.data_ptr<float>(), static_cast<uint32_t>(h), static_cast<uint32_t>(w), slope, intercept);
  if (r.encoding == shard::PixelEncoding::kFloat32) return std::nullopt;
  Sample s;
  const auto dtype = r.encoding == shard::PixelEncoding::kInt16Linear ? torch::kInt16 : torch::kUInt16;
  s.image = torch::empty({1, h, w}, dtype);
  std::memcpy(s.image.data_ptr(), r.pixels.data(), r.pixels.size());  // host order, as set_pixels wrote it
  s.preprocess = torch::tensor({r.slope, r.intercept, o.window_center, o.window_width, a.flip ? 1.0 : 0.0, a.scale,
                                a.offset, o.mean, o.std},
                               torch::kFloat64);
  return s;
}

torch::Tensor finish_raw(const torch::Tensor& raw, const torch::Tensor& params) {
  TORCH_CHECK(raw.dim() == 3 && raw.size(0) == 1 && params.numel() == kRawParams, "finish_raw expects [1, H, W] and [",
              static_cast<int64_t>(kRawParams), "] parameters, got ", raw.sizes(), " and ", params.sizes());
  const auto p = params.to(torch::kFloat64).contiguous();
  const double* v = p.data_ptr<double>();
  // float(q * slope + intercept) in double: the value raw_sample compared.
  const torch::Tensor hu = (raw[0].to(torch::kFloat64) * v[kRawSlope] + v[kRawIntercept]).to(torch::kFloat32);
  DicomDatasetOptions o;
  o.image_size = raw.size(1);
  o.window_center = v[kRawCenter];
  o.window_width = v[kRawWidth];
  o.mean = v[kRawMean];
  o.std = v[kRawStd];
  Augmentation a;
  a.flip = v[kRawFlip] != 0;
  a.scale = v[kRawGain];
  a.offset = v[kRawBias];
  return preprocess_hu(hu, o, a);
}

}  // namespace medtrain::data
