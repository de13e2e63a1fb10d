// The hand-written antialiased resize against (1) the filter's definition
// evaluated in double precision as dense weight matrices, tightly, and (2)
// LibTorch's interpolate(bilinear, antialias, align_corners=false) within its
// own float error (LibTorch is 1.6e-2 from the exact result on 512 -> 224 of
// values in +-1000, measured with PyTorch in Python): shrinking, enlarging,
// mixed and identity sizes, odd ratios, and a constant image.
#include <gtest/gtest.h>
#include <torch/nn/functional/upsampling.h>

#include <algorithm>
#include <cmath>

#include "data/image_resize.h"

namespace medtrain::data {
namespace {

torch::Tensor reference(const torch::Tensor& x, int64_t h, int64_t w) {
  namespace F = torch::nn::functional;
  const auto o = F::InterpolateFuncOptions()
                     .size(std::vector<int64_t>{h, w})
                     .mode(torch::kBilinear)
                     .align_corners(false)
                     .antialias(true);
  return F::interpolate(x.unsqueeze(0).unsqueeze(0), o)[0][0];
}

// Dense [out, in] matrix of the triangle filter, stretched by the scale when
// shrinking, each row normalized (PIL's and PyTorch's antialiased bilinear).
torch::Tensor filter_matrix(int64_t in, int64_t out) {
  auto m = torch::zeros({out, in}, torch::kFloat64);
  const double scale = static_cast<double>(in) / out, support = std::max(scale, 1.0);
  for (int64_t o = 0; o < out; ++o) {
    const double center = scale * (o + 0.5);
    const int64_t lo = std::max<int64_t>(static_cast<int64_t>(center - support + 0.5), 0);
    const int64_t hi = std::min<int64_t>(static_cast<int64_t>(center + support + 0.5), in);
    for (int64_t j = lo; j < hi; ++j) m[o][j] = std::max(0.0, 1.0 - std::abs((j + 0.5 - center) / support));
  }
  return m / m.sum(1, true);
}

struct Case {
  int64_t in_h, in_w, out_h, out_w;
};

class ResizeTest : public ::testing::TestWithParam<Case> {};

TEST_P(ResizeTest, MatchesTheFilterAndLibTorch) {
  const Case c = GetParam();
  torch::manual_seed(c.in_h * 1000 + c.out_w);
  const auto x = torch::rand({c.in_h, c.in_w}) * 2000 - 1000;  // HU-like range
  const auto got = resize_bilinear_antialias(x, c.out_h, c.out_w);
  const auto exact = filter_matrix(c.in_h, c.out_h).mm(x.to(torch::kFloat64)).mm(filter_matrix(c.in_w, c.out_w).t());
  ASSERT_EQ(got.sizes(), exact.sizes());
  EXPECT_LT((got.to(torch::kFloat64) - exact).abs().max().item<double>(), 2e-3);  // 1e-6 of the range
  const auto torch_result = reference(x, c.out_h, c.out_w);
  EXPECT_LT((got - torch_result).abs().max().item<float>(), 4e-2f);  // LibTorch's own float error
}

INSTANTIATE_TEST_SUITE_P(Sizes, ResizeTest,
                         ::testing::Values(Case{512, 512, 256, 256}, Case{512, 512, 224, 224}, Case{100, 37, 37, 100},
                                           Case{37, 100, 100, 37}, Case{64, 64, 64, 64}, Case{60, 90, 45, 120},
                                           Case{7, 5, 3, 2}, Case{3, 3, 1, 1}, Case{240, 240, 64, 64}));

// A row map is applied before filtering, exactly as if the whole image had been
// mapped first; a clamp makes the order matter. Odd sizes and a large shrink
// exercise the ring of mapped rows (windows that skip rows, the last row).
TEST(Resize, RowMapEqualsMappingTheImageFirst) {
  const RowMap clamp = [](const float* in, float* out, int64_t n) {
    for (int64_t i = 0; i < n; ++i) out[i] = std::min(std::max(in[i] * 0.01f, -1.0f), 2.0f);
  };
  for (const Case c : {Case{512, 512, 256, 256}, Case{101, 67, 10, 9}, Case{40, 30, 50, 20}, Case{9, 9, 1, 1}}) {
    SCOPED_TRACE(testing::Message() << c.in_h << "x" << c.in_w << " -> " << c.out_h << "x" << c.out_w);
    const auto x = torch::rand({c.in_h, c.in_w}) * 2000 - 1000;
    auto mapped = torch::empty_like(x);
    clamp(x.data_ptr<float>(), mapped.data_ptr<float>(), x.numel());
    const auto want = resize_bilinear_antialias(mapped, c.out_h, c.out_w);
    const auto got = resize_bilinear_antialias(x, c.out_h, c.out_w, clamp);
    EXPECT_TRUE(torch::equal(got, want));
  }
}

TEST(Resize, ConstantStaysConstant) {
  const auto x = torch::full({97, 61}, 42.5f);
  const auto y = resize_bilinear_antialias(x, 30, 77);
  EXPECT_LT((y - 42.5f).abs().max().item<float>(), 1e-4f);
}

}  // namespace
}  // namespace medtrain::data
