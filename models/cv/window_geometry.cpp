#include "models/cv/window_geometry.h"

#include <ATen/ATen.h>

#include <algorithm>

namespace medtrain::models::cv {

std::vector<int64_t> window_starts(int64_t size, int64_t roi, double overlap) {
  size = std::max(size, roi);  // padded
  // _get_scan_interval: int() truncates, as in Python.
  int64_t interval = size == roi ? roi : static_cast<int64_t>(static_cast<double>(roi) * (1 - overlap));
  if (interval <= 0) interval = 1;
  // dense_patch_slices: the first window that reaches the border is the last.
  const int64_t num = (size + interval - 1) / interval;
  int64_t count = 1;
  for (int64_t d = 0; d < num; ++d) {
    if (d * interval + roi >= size) {
      count = d + 1;
      break;
    }
  }
  std::vector<int64_t> starts;
  for (int64_t i = 0; i < count; ++i) {
    const int64_t s = i * interval;
    starts.push_back(s - std::max<int64_t>(s + roi - size, 0));
  }
  return starts;
}

at::Tensor importance_map(const std::vector<int64_t>& roi, bool gaussian, double sigma_scale) {
  if (!gaussian) return at::ones(roi, at::kFloat);
  // float32 arange and exp, the outer product built axis by axis in MONAI's order.
  at::Tensor map;
  for (size_t i = 0; i < roi.size(); ++i) {
    const double n = static_cast<double>(roi[i]), sigma = n * sigma_scale;
    at::Tensor x = at::arange(-(n - 1) / 2.0, (n - 1) / 2.0 + 1, 1.0, at::kFloat);
    x = at::exp(x.pow(2) / (-2 * sigma * sigma));
    if (i == 0) {
      map = x;
    } else {
      std::vector<int64_t> shape(i, 1);
      shape.push_back(roi[i]);
      map = map.unsqueeze(-1) * x.view(shape);
    }
  }
  const double floor = std::max(map.min().item<double>(), 1e-3);
  return map.clamp_(floor);
}

}  // namespace medtrain::models::cv
