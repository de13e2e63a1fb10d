// Fused softmax cross-entropy: loss and gradient against at::cross_entropy_loss
// with autograd on the CPU (ignore_index, label smoothing, bf16, all rows
// ignored, upstream gradient scaling), argument errors; on a GPU the kernel
// against the CPU reference at a 30k vocabulary.
#include <gtest/gtest.h>
#include <torch/torch.h>

#include <cmath>
#include <functional>
#include <string>

#include "kernels/softmax_cross_entropy.h"
#include "tests/kernels/kernel_test_util.h"

namespace medtrain::kernels {
namespace {

using testing::all_close;
using testing::expect_error;
using testing::fresh_seed;
using testing::rel_err;

torch::Tensor make_target(int64_t n, int64_t v, int64_t ignore, torch::Device d = torch::kCPU) {
  auto t = torch::randint(0, v, {n}, torch::kLong);
  t.masked_fill_(torch::rand({n}) < 0.2, ignore);
  return t.to(d);
}

// Loss and d(scale * loss)/d(logits) of the composite, in float64.
std::pair<torch::Tensor, torch::Tensor> composite(const torch::Tensor& logits, const torch::Tensor& target,
                                                  const CrossEntropyOptions& o, double scale = 1.0) {
  auto x = logits.detach().to(torch::kCPU, torch::kDouble).requires_grad_(true);
  auto loss = at::cross_entropy_loss(x, target.cpu(), {}, at::Reduction::Mean, o.ignore_index, o.label_smoothing);
  (loss * scale).backward();
  return {loss.detach(), x.grad()};
}

TEST(SoftmaxCrossEntropy, MatchesAtenLossAndGradient) {
  fresh_seed();
  for (double smoothing : {0.0, 0.1}) {
    for (int64_t ignore : {-100, 5}) {
      SCOPED_TRACE("smoothing " + std::to_string(smoothing) + " ignore " + std::to_string(ignore));
      const CrossEntropyOptions o{ignore, smoothing};
      auto logits = (torch::randn({37, 1001}) * 3).requires_grad_(true);
      auto target = make_target(37, 1001, ignore);
      auto loss = softmax_cross_entropy(logits, target, o);
      (loss * 2.5).backward();
      auto [want_loss, want_grad] = composite(logits, target, o, 2.5);
      EXPECT_LT(rel_err(loss, want_loss), 1e-6);
      EXPECT_TRUE(all_close(logits.grad(), want_grad, 1e-5, 1e-8));
    }
  }
}

TEST(SoftmaxCrossEntropy, Bf16LogitsWithinBf16Tolerance) {
  fresh_seed();
  auto logits = (torch::randn({19, 513}) * 2).to(torch::kBFloat16).requires_grad_(true);
  auto target = make_target(19, 513, -100);
  const CrossEntropyOptions o{-100, 0.05};
  auto loss = softmax_cross_entropy(logits, target, o);
  loss.backward();
  auto [want_loss, want_grad] = composite(logits, target, o);
  EXPECT_EQ(logits.grad().scalar_type(), torch::kBFloat16);
  EXPECT_LT(rel_err(loss, want_loss), 1e-5);  // fp32 math on the bf16 inputs
  EXPECT_LT(rel_err(logits.grad(), want_grad), 1e-2);
}

TEST(SoftmaxCrossEntropy, AllRowsIgnoredGivesNanLossAndZeroGradLikePyTorch) {
  auto logits = torch::randn({4, 7}).requires_grad_(true);
  auto target = torch::full({4}, -100, torch::kLong);
  auto loss = softmax_cross_entropy(logits, target);
  loss.backward();
  auto want = at::cross_entropy_loss(logits.detach(), target);
  EXPECT_TRUE(std::isnan(loss.item<float>()));
  EXPECT_TRUE(std::isnan(want.item<float>()));
  EXPECT_TRUE(torch::equal(logits.grad(), torch::zeros({4, 7})));
}

TEST(SoftmaxCrossEntropy, WithoutGradIsTheSameLoss) {
  fresh_seed();
  auto logits = torch::randn({9, 33});
  auto target = make_target(9, 33, -100);
  auto [loss, grad] = softmax_cross_entropy_forward(logits, target, {}, false);
  EXPECT_FALSE(grad.defined());
  EXPECT_LT(rel_err(loss, at::cross_entropy_loss(logits, target)), 1e-6);
}

TEST(SoftmaxCrossEntropy, RefusesBadArguments) {
  auto logits = torch::randn({4, 7});
  auto target = torch::tensor({0, 1, 2, 3}, torch::kLong);
  expect_error([&] { softmax_cross_entropy(logits.view({2, 2, 7}), target); }, "logits must be [N, V]");
  expect_error([&] { softmax_cross_entropy(torch::randn({7, 4}).t(), target); }, "logits is not contiguous");
  expect_error([&] { softmax_cross_entropy(logits, target.to(torch::kInt)); }, "target must be int64 [4]");
  expect_error([&] { softmax_cross_entropy(logits, torch::tensor({0, 1, 7, 3}, torch::kLong)); },
               "target values must be in [0, 7)");
  expect_error([&] { softmax_cross_entropy(logits, target, {-100, 1.5}); }, "label_smoothing must be in [0, 1]");
  expect_error([&] { softmax_cross_entropy(logits.to(torch::kDouble), target); }, "must be float32 or bfloat16");
}

TEST(SoftmaxCrossEntropyCuda, MatchesReferenceAtVocab30k) {
  MEDTRAIN_SKIP_WITHOUT_CUDA();
  fresh_seed();
  for (auto dtype : {torch::kFloat, torch::kBFloat16}) {
    for (double smoothing : {0.0, 0.1}) {
      const CrossEntropyOptions o{-100, smoothing};
      auto logits = (torch::randn({203, 30011}) * 4).to(dtype);
      auto target = make_target(203, 30011, -100);
      auto [want_loss, want_grad] = softmax_cross_entropy_forward(logits, target, o);
      auto dl = logits.cuda();
      auto dt = target.cuda();
      testing::poison_cuda_cache(dl.numel() * dl.element_size());
      auto [loss, grad] = softmax_cross_entropy_forward(dl, dt, o);
      EXPECT_FALSE(grad.isnan().any().item<bool>());
      const bool bf16 = dtype == torch::kBFloat16;
      EXPECT_LT(rel_err(loss, want_loss), 1e-5);
      EXPECT_LT(rel_err(grad, want_grad), bf16 ? 1e-2 : 1e-5);
      auto [cl, cg] = composite(logits, target, o);
      EXPECT_LT(rel_err(loss, cl), 1e-5);
    }
  }
}

}  // namespace
}  // namespace medtrain::kernels
