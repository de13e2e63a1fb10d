#include "data/image_resize.h"

#include <algorithm>
#include <cmath>
#include <vector>

namespace medtrain::data {
namespace {

// For each output index: the first input index and the normalized weights of
// the inputs it reads (at most `taps` of them, zero-padded).
struct AxisWeights {
  int64_t taps = 0;
  std::vector<int64_t> first;
  std::vector<float> weights;  // out x taps
};

AxisWeights axis_weights(int64_t in, int64_t out) {
  const double scale = static_cast<double>(in) / static_cast<double>(out);
  const double support = scale >= 1.0 ? scale : 1.0;  // triangle of half-width 1, stretched when shrinking
  const double inv = scale >= 1.0 ? 1.0 / scale : 1.0;
  AxisWeights a;
  a.taps = static_cast<int64_t>(std::ceil(support)) * 2 + 1;
  a.first.resize(static_cast<size_t>(out));
  a.weights.assign(static_cast<size_t>(out * a.taps), 0.0f);
  for (int64_t i = 0; i < out; ++i) {
    const double center = scale * (static_cast<double>(i) + 0.5);
    const int64_t lo = std::max<int64_t>(static_cast<int64_t>(center - support + 0.5), 0);
    const int64_t hi = std::min<int64_t>(static_cast<int64_t>(center + support + 0.5), in);
    const int64_t n = std::min(hi - lo, a.taps);
    double total = 0;
    std::vector<double> w(static_cast<size_t>(n));
    for (int64_t j = 0; j < n; ++j) {
      const double x = std::abs((static_cast<double>(j + lo) - center + 0.5) * inv);
      w[static_cast<size_t>(j)] = x < 1.0 ? 1.0 - x : 0.0;
      total += w[static_cast<size_t>(j)];
    }
    a.first[static_cast<size_t>(i)] = lo;
    for (int64_t j = 0; j < n; ++j) {
      a.weights[static_cast<size_t>(i * a.taps + j)] = total > 0 ? static_cast<float>(w[static_cast<size_t>(j)] / total) : 0.0f;
    }
  }
  return a;
}

}  // namespace

torch::Tensor resize_bilinear_antialias(const torch::Tensor& image, int64_t out_h, int64_t out_w) {
  TORCH_CHECK(image.dim() == 2 && image.scalar_type() == torch::kFloat32, "resize_bilinear_antialias expects float32 [H, W], got ",
              image.sizes(), " ", image.scalar_type());
  TORCH_CHECK(out_h >= 1 && out_w >= 1, "resize_bilinear_antialias: output size ", out_h, "x", out_w);
  const torch::Tensor in = image.contiguous();
  const int64_t h = in.size(0), w = in.size(1);
  const AxisWeights ax = axis_weights(w, out_w), ay = axis_weights(h, out_h);
  // Rows first (every input row to out_w columns), then columns: both passes
  // read contiguous memory in the inner loop.
  std::vector<float> rows(static_cast<size_t>(h * out_w));
  const float* src = in.data_ptr<float>();
  for (int64_t r = 0; r < h; ++r) {
    const float* line = src + r * w;
    float* dst = rows.data() + r * out_w;
    for (int64_t c = 0; c < out_w; ++c) {
      const float* wt = ax.weights.data() + c * ax.taps;
      const int64_t first = ax.first[static_cast<size_t>(c)];
      const int64_t n = std::min(ax.taps, w - first);
      float acc = 0;
      for (int64_t k = 0; k < n; ++k) acc += wt[k] * line[first + k];
      dst[c] = acc;
    }
  }
  torch::Tensor out = torch::zeros({out_h, out_w}, torch::kFloat32);
  float* o = out.data_ptr<float>();
  for (int64_t r = 0; r < out_h; ++r) {
    const float* wt = ay.weights.data() + r * ay.taps;
    const int64_t first = ay.first[static_cast<size_t>(r)];
    const int64_t n = std::min(ay.taps, h - first);
    float* dst = o + r * out_w;
    for (int64_t k = 0; k < n; ++k) {
      const float* line = rows.data() + (first + k) * out_w;
      const float wk = wt[k];
      for (int64_t c = 0; c < out_w; ++c) dst[c] += wk * line[c];
    }
  }
  return out;
}

}  // namespace medtrain::data
