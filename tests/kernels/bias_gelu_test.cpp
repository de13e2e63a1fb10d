// Fused bias + GELU (erf and tanh): forward and gradients against at::gelu
// with autograd on the CPU, float64 finite differences, argument errors; on a
// GPU the kernels against the CPU reference.
#include <gtest/gtest.h>
#include <torch/torch.h>

#include <functional>
#include <string>

#include "kernels/bias_gelu.h"
#include "tests/kernels/finite_difference.h"
#include "tests/kernels/kernel_test_util.h"

namespace medtrain::kernels {
namespace {

using testing::all_close;
using testing::expect_error;
using testing::fresh_seed;
using testing::rel_err;

TEST(BiasGelu, MatchesAtenGeluOfSumWithGradients) {
  fresh_seed();
  for (bool tanh_approx : {false, true}) {
    SCOPED_TRACE(tanh_approx ? "tanh" : "erf");
    auto x0 = torch::randn({6, 5, 37}) * 3, b0 = torch::randn({37}), dy = torch::randn({6, 5, 37});
    auto x = x0.clone().requires_grad_(true), b = b0.clone().requires_grad_(true);
    auto y = bias_gelu(x, b, tanh_approx);
    y.backward(dy);
    auto xr = x0.clone().requires_grad_(true), br = b0.clone().requires_grad_(true);
    auto yr = at::gelu(xr + br, tanh_approx ? "tanh" : "none");
    yr.backward(dy);
    EXPECT_TRUE(all_close(y, yr, 1e-5, 1e-5));
    EXPECT_TRUE(all_close(x.grad(), xr.grad(), 1e-5, 1e-5));  // tanh form: a few ulp apart
    EXPECT_TRUE(all_close(b.grad(), br.grad(), 1e-5, 1e-5));
  }
}

TEST(BiasGelu, GradcheckFloat64) {
  fresh_seed();
  for (bool tanh_approx : {false, true}) {
    auto x = torch::randn({4, 3}, torch::kDouble).requires_grad_(true);
    auto b = torch::randn({3}, torch::kDouble).requires_grad_(true);
    const std::string err = testing::gradcheck(
        [&](const std::vector<torch::Tensor>& in) { return bias_gelu(in[0], in[1], tanh_approx); }, {x, b});
    EXPECT_EQ(err, "") << (tanh_approx ? "tanh" : "erf");
  }
}

TEST(BiasGelu, RefusesBadArguments) {
  auto x = torch::randn({4, 8}), b = torch::zeros({8});
  expect_error([&] { bias_gelu(torch::randn({8, 4}).t(), b); }, "x must be a contiguous [..., D]");
  expect_error([&] { bias_gelu(x, torch::zeros({4})); }, "bias must be [8]");
  expect_error([&] { bias_gelu(x, b.to(torch::kBFloat16)); }, "bias must have x's dtype");
  expect_error([&] { bias_gelu(x.to(torch::kInt), b.to(torch::kInt)); }, "x must be float32 or bfloat16");
}

TEST(BiasGeluCuda, KernelsMatchReference) {
  MEDTRAIN_SKIP_WITHOUT_CUDA();
  fresh_seed();
  for (auto dtype : {torch::kFloat, torch::kBFloat16}) {
    for (bool tanh_approx : {false, true}) {
      auto x = (torch::randn({1023, 771}) * 3).to(dtype), b = torch::randn({771}).to(dtype);
      auto dy = torch::randn({1023, 771}).to(dtype);
      auto y0 = bias_gelu_forward(x, b, tanh_approx);
      auto [dx0, db0] = bias_gelu_backward(dy, x, b, tanh_approx);
      auto xd = x.cuda(), bd = b.cuda(), dyd = dy.cuda();
      testing::poison_cuda_cache(x.numel() * x.element_size());
      auto y1 = bias_gelu_forward(xd, bd, tanh_approx);
      testing::poison_cuda_cache(x.numel() * x.element_size());
      auto [dx1, db1] = bias_gelu_backward(dyd, xd, bd, tanh_approx);
      const double tol = dtype == torch::kBFloat16 ? 1e-2 : 1e-5;
      EXPECT_LT(rel_err(y1, y0), tol);
      EXPECT_LT(rel_err(dx1, dx0), tol);
      EXPECT_LT(rel_err(db1, db0), dtype == torch::kBFloat16 ? 1e-2 : 1e-5);
      EXPECT_FALSE(y1.isnan().any().item<bool>() || dx1.isnan().any().item<bool>());
    }
  }
}

}  // namespace
}  // namespace medtrain::kernels
