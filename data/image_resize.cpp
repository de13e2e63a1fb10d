#include "data/image_resize.h"

#include <algorithm>
#include <cmath>
#include <vector>

namespace medtrain::data {
namespace {

// For each output index: the first input index, how many inputs it reads (at
// most `taps`; zero weights at either end trimmed) and their normalized weights.
struct AxisWeights {
  int64_t taps = 0;
  std::vector<int64_t> first;
  std::vector<int64_t> count;
  std::vector<float> weights;  // out x taps
};

AxisWeights axis_weights(int64_t in, int64_t out) {
  const double scale = static_cast<double>(in) / static_cast<double>(out);
  const double support = scale >= 1.0 ? scale : 1.0;  // triangle of half-width 1, stretched when shrinking
  const double inv = scale >= 1.0 ? 1.0 / scale : 1.0;
  AxisWeights a;
  a.taps = static_cast<int64_t>(std::ceil(support)) * 2 + 1;
  a.first.resize(static_cast<size_t>(out));
  a.count.resize(static_cast<size_t>(out));
  a.weights.assign(static_cast<size_t>(out * a.taps), 0.0f);
  for (int64_t i = 0; i < out; ++i) {
    const double center = scale * (static_cast<double>(i) + 0.5);
    int64_t lo = std::max<int64_t>(static_cast<int64_t>(center - support + 0.5), 0);
    const int64_t hi = std::min<int64_t>(static_cast<int64_t>(center + support + 0.5), in);
    std::vector<double> w;
    double total = 0;
    for (int64_t j = lo; j < std::min(hi, lo + a.taps); ++j) {
      const double x = std::abs((static_cast<double>(j) - center + 0.5) * inv);
      w.push_back(x < 1.0 ? 1.0 - x : 0.0);
      total += w.back();
    }
    while (w.size() > 1 && w.back() == 0.0) w.pop_back();
    while (w.size() > 1 && w.front() == 0.0) w.erase(w.begin()), ++lo;
    a.first[static_cast<size_t>(i)] = lo;
    a.count[static_cast<size_t>(i)] = static_cast<int64_t>(w.size());
    for (size_t j = 0; j < w.size(); ++j) {
      a.weights[static_cast<size_t>(i * a.taps) + j] = total > 0 ? static_cast<float>(w[j] / total) : 0.0f;
    }
  }
  return a;
}

// Per-thread scratch that keeps its capacity: a fresh buffer per slice costs
// more in page faults than the filtering does.
float* scratch(std::vector<float>& buffer, int64_t n) {
  if (buffer.size() < static_cast<size_t>(n)) buffer.resize(static_cast<size_t>(n));
  return buffer.data();
}

// Input rows as the vertical pass needs them. With a map, each row is mapped
// once into a ring of `taps` rows that stays in cache: the windows of
// successive outputs only move forward, so a row that left the ring is never
// read again, and no full-size mapped image is written and read back.
class SourceRows {
 public:
  SourceRows(const float* src, int64_t w, const RowMap& map, int64_t taps, std::vector<float>& ring)
      : src_(src), w_(w), map_(map), taps_(taps), ring_(map ? scratch(ring, taps * w) : nullptr) {}

  const float* row(int64_t r) {
    if (!map_) return src_ + r * w_;
    float* slot = ring_ + (r % taps_) * w_;
    for (; next_ <= r; ++next_) map_(src_ + next_ * w_, ring_ + (next_ % taps_) * w_, w_);
    return slot;
  }

 private:
  const float* src_;
  int64_t w_;
  const RowMap& map_;
  int64_t taps_;
  float* ring_;
  int64_t next_ = 0;  // the first row not yet mapped
};

// dst[out_h, w] = the vertical filter over the source rows. The inner loop
// runs along a row, contiguous, and vectorises.
void filter_columns(SourceRows& src, int64_t w, const AxisWeights& ay, int64_t out_h, float* __restrict dst) {
  for (int64_t r = 0; r < out_h; ++r) {
    const float* wt = ay.weights.data() + r * ay.taps;
    const int64_t first = ay.first[static_cast<size_t>(r)];
    float* __restrict out = dst + r * w;
    std::fill(out, out + w, 0.0f);
    for (int64_t k = 0; k < ay.count[static_cast<size_t>(r)]; ++k) {
      const float* __restrict line = src.row(first + k);
      const float wk = wt[k];
      for (int64_t c = 0; c < w; ++c) out[c] += wk * line[c];
    }
  }
}

// dst[rows, out_w] = the horizontal filter over src[rows, w].
void filter_rows(const float* __restrict src, int64_t rows, int64_t w, const AxisWeights& ax, int64_t out_w,
                 float* __restrict dst) {
  for (int64_t r = 0; r < rows; ++r) {
    const float* line = src + r * w;
    float* out = dst + r * out_w;
    for (int64_t c = 0; c < out_w; ++c) {
      const float* wt = ax.weights.data() + c * ax.taps;
      const float* in = line + ax.first[static_cast<size_t>(c)];
      float acc = 0;
      for (int64_t k = 0; k < ax.count[static_cast<size_t>(c)]; ++k) acc += wt[k] * in[k];
      out[c] = acc;
    }
  }
}

}  // namespace

torch::Tensor resize_bilinear_antialias(const torch::Tensor& image, int64_t out_h, int64_t out_w, const RowMap& map) {
  TORCH_CHECK(image.dim() == 2 && image.scalar_type() == torch::kFloat32,
              "resize_bilinear_antialias expects float32 [H, W], got ", image.sizes(), " ", image.scalar_type());
  TORCH_CHECK(out_h >= 1 && out_w >= 1, "resize_bilinear_antialias: output size ", out_h, "x", out_w);
  const torch::Tensor in = image.contiguous();
  const int64_t h = in.size(0), w = in.size(1);
  const AxisWeights ax = axis_weights(w, out_w), ay = axis_weights(h, out_h);
  thread_local std::vector<float> ring_buffer, columns_buffer;
  SourceRows rows(in.data_ptr<float>(), w, map, ay.taps, ring_buffer);
  // Vertical pass first: when the image shrinks, the scalar horizontal pass
  // then runs over out_h rows instead of h.
  float* columns = scratch(columns_buffer, out_h * w);
  filter_columns(rows, w, ay, out_h, columns);
  torch::Tensor out = torch::empty({out_h, out_w}, torch::kFloat32);
  filter_rows(columns, out_h, w, ax, out_w, out.data_ptr<float>());
  return out;
}

}  // namespace medtrain::data
