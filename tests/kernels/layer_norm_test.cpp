// Fused LayerNorm: forward and gradients against at::layer_norm with autograd
// on the CPU, a float64 finite-difference gradcheck of the autograd Function,
// argument errors; on a GPU the kernels against the CPU reference (fp32, bf16).
#include <gtest/gtest.h>
#include <torch/torch.h>

#include <functional>
#include <string>

#include "kernels/layer_norm.h"
#include "tests/kernels/finite_difference.h"
#include "tests/kernels/kernel_test_util.h"

namespace medtrain::kernels {
namespace {

using testing::all_close;
using testing::expect_error;
using testing::fresh_seed;
using testing::rel_err;

struct Grads {
  torch::Tensor y, dx, dgamma, dbeta;
};

template <typename F>
Grads run(F f, const torch::Tensor& x0, const torch::Tensor& g0, const torch::Tensor& b0, const torch::Tensor& dy) {
  auto x = x0.detach().clone().requires_grad_(true), g = g0.detach().clone().requires_grad_(true),
       b = b0.detach().clone().requires_grad_(true);
  auto y = f(x, g, b);
  y.backward(dy);
  return {y.detach(), x.grad(), g.grad(), b.grad()};
}

TEST(LayerNorm, MatchesAtenForwardAndBackward) {
  fresh_seed();
  auto x = torch::randn({5, 7, 33}) * 3 + 2, gamma = torch::randn({33}), beta = torch::randn({33});
  auto dy = torch::randn({5, 7, 33});
  auto got = run([](auto& x, auto& g, auto& b) { return layer_norm(x, g, b, 1e-5); }, x, gamma, beta, dy);
  auto want = run([](auto& x, auto& g, auto& b) { return at::layer_norm(x, {33}, g, b, 1e-5); }, x, gamma, beta, dy);
  EXPECT_TRUE(all_close(got.y, want.y, 1e-5, 1e-5));
  EXPECT_TRUE(all_close(got.dx, want.dx, 1e-4, 1e-5));
  EXPECT_TRUE(all_close(got.dgamma, want.dgamma, 1e-4, 1e-5));
  EXPECT_TRUE(all_close(got.dbeta, want.dbeta, 1e-5, 1e-5));
}

TEST(LayerNorm, GradcheckFloat64) {
  fresh_seed();
  auto x = torch::randn({3, 5}, torch::kDouble).requires_grad_(true);
  auto g = torch::randn({5}, torch::kDouble).requires_grad_(true);
  auto b = torch::randn({5}, torch::kDouble).requires_grad_(true);
  const std::string err = testing::gradcheck(
      [](const std::vector<torch::Tensor>& in) { return layer_norm(in[0], in[1], in[2], 1e-5); }, {x, g, b});
  EXPECT_EQ(err, "");
}

TEST(LayerNorm, RefusesBadArguments) {
  auto x = torch::randn({4, 8}), g = torch::ones({8}), b = torch::zeros({8});
  expect_error([&] { layer_norm(torch::randn({8, 4}).t(), g, b); }, "x must be a contiguous [..., D]");
  expect_error([&] { layer_norm(x, torch::ones({7}), b); }, "gamma must be [8]");
  expect_error([&] { layer_norm(x, g, b.to(torch::kDouble)); }, "beta must have x's dtype");
  expect_error([&] { layer_norm(x.to(torch::kHalf), g.to(torch::kHalf), b.to(torch::kHalf)); },
               "x must be float32 or bfloat16");
  expect_error([&] { layer_norm(x, g, b, 0.0); }, "eps must be > 0");
}

TEST(LayerNormCuda, KernelsMatchReference) {
  MEDTRAIN_SKIP_WITHOUT_CUDA();
  fresh_seed();
  for (auto dtype : {torch::kFloat, torch::kBFloat16}) {
    for (auto shape : {std::vector<int64_t>{1, 7}, std::vector<int64_t>{4097, 769}, std::vector<int64_t>{3, 5, 1025}}) {
      const int64_t d = shape.back();
      auto x = (torch::randn(shape) * 2 + 1).to(dtype), g = torch::randn({d}).to(dtype), b = torch::randn({d}).to(dtype);
      auto dy = torch::randn(shape).to(dtype);
      auto [y0, m0, r0] = layer_norm_forward(x, g, b, 1e-5);
      auto [dx0, dg0, db0] = layer_norm_backward(dy, x, m0, r0, g);
      auto xd = x.cuda(), gd = g.cuda(), bd = b.cuda(), dyd = dy.cuda();
      testing::poison_cuda_cache(x.numel() * x.element_size());
      auto [y1, m1, r1] = layer_norm_forward(xd, gd, bd, 1e-5);
      testing::poison_cuda_cache(x.numel() * x.element_size());
      auto [dx1, dg1, db1] = layer_norm_backward(dyd, xd, m1, r1, gd);
      const double tol = dtype == torch::kBFloat16 ? 1e-2 : 1e-5;
      EXPECT_LT(rel_err(y1, y0), tol);
      EXPECT_LT(rel_err(r1, r0), 1e-5);
      EXPECT_LT(rel_err(dx1, dx0), dtype == torch::kBFloat16 ? 1e-2 : 1e-4);
      EXPECT_LT(rel_err(dg1, dg0), dtype == torch::kBFloat16 ? 1e-2 : 1e-4);
      EXPECT_LT(rel_err(db1, db0), dtype == torch::kBFloat16 ? 1e-2 : 1e-5);
      EXPECT_FALSE(y1.isnan().any().item<bool>() || dx1.isnan().any().item<bool>());
    }
  }
}

}  // namespace
}  // namespace medtrain::kernels
