// Multi-tensor AdamW / SGD: the CPU reference and FusedAdamW / FusedSGD against
// torch::optim on the CPU over several steps, checkpoint interchange, AMP skip
// and unscale, argument errors; on a GPU the kernels against the reference.
#include <gtest/gtest.h>
#include <torch/torch.h>

#include <functional>
#include <memory>
#include <limits>
#include <sstream>
#include <string>
#include <vector>

#include "kernels/fused_adamw.h"
#include "kernels/fused_sgd.h"
#include "kernels/multi_tensor_optim.h"
#include "tests/kernels/kernel_test_util.h"

namespace medtrain::kernels {
namespace {

using testing::all_close;
using testing::expect_error;
using testing::fresh_seed;

// Odd shapes, one past the 65536-element chunk, one empty, one channels_last.
std::vector<torch::Tensor> make_params(torch::Device device = torch::kCPU) {
  std::vector<torch::Tensor> ps = {torch::randn({7, 13}), torch::randn({65537}), torch::randn({1}),
                                   torch::randn({3, 5, 3, 3}).contiguous(torch::MemoryFormat::ChannelsLast),
                                   torch::randn({0}), torch::randn({333})};
  for (auto& p : ps) p = p.to(device).set_requires_grad(true);
  return ps;
}

std::vector<torch::Tensor> clone_params(const std::vector<torch::Tensor>& ps) {
  std::vector<torch::Tensor> out;
  for (const auto& p : ps) out.push_back(p.detach().clone().set_requires_grad(true));
  return out;
}

// Gives every parameter a fresh random gradient, the same for both lists.
void set_grads(std::vector<torch::Tensor>& a, std::vector<torch::Tensor>& b) {
  for (size_t i = 0; i < a.size(); ++i) {
    auto g = torch::randn_like(a[i]);
    a[i].mutable_grad() = g.clone();
    b[i].mutable_grad() = g.clone();
  }
}

void expect_params_close(const std::vector<torch::Tensor>& got, const std::vector<torch::Tensor>& want,
                         double rtol = 1e-6, double atol = 1e-7) {
  for (size_t i = 0; i < got.size(); ++i) EXPECT_TRUE(all_close(got[i], want[i], rtol, atol)) << "param " << i;
}

TEST(FusedAdamW, MatchesTorchAdamWOverSeveralSteps) {
  fresh_seed();
  for (double wd : {0.0, 0.05}) {
    auto a = make_params(), b = clone_params(a);
    auto opts = torch::optim::AdamWOptions(3e-3).betas({0.8, 0.95}).eps(1e-6).weight_decay(wd);
    torch::optim::AdamW want(a, opts);
    FusedAdamW got(b, opts);
    for (int step = 0; step < 6; ++step) {
      set_grads(a, b);
      want.step();
      got.step();
    }
    expect_params_close(b, a);
    for (size_t i = 0; i < a.size(); ++i) {
      auto& sw = static_cast<torch::optim::AdamWParamState&>(*want.state().at(a[i].unsafeGetTensorImpl()));
      auto& sg = static_cast<torch::optim::AdamWParamState&>(*got.state().at(b[i].unsafeGetTensorImpl()));
      EXPECT_EQ(sg.step(), sw.step());
      EXPECT_EQ(sg.exp_avg().strides(), sw.exp_avg().strides());
      EXPECT_TRUE(all_close(sg.exp_avg(), sw.exp_avg(), 1e-6, 1e-7));
      EXPECT_TRUE(all_close(sg.exp_avg_sq(), sw.exp_avg_sq(), 1e-6, 1e-9));
    }
  }
}

TEST(FusedAdamW, SkipsParamsWithoutGradAndKeepsPerParamSteps) {
  fresh_seed();
  auto a = make_params(), b = clone_params(a);
  torch::optim::AdamW want(a, torch::optim::AdamWOptions(1e-2));
  FusedAdamW got(b, torch::optim::AdamWOptions(1e-2));
  for (int step = 0; step < 4; ++step) {
    set_grads(a, b);
    if (step % 2 == 0) a[1].mutable_grad() = b[1].mutable_grad() = torch::Tensor();
    want.step();
    got.step();
  }
  expect_params_close(b, a);
}

TEST(FusedAdamW, CheckpointsAreInterchangeableWithTorchAdamW) {
  fresh_seed();
  auto a = make_params(), b = clone_params(a);
  auto opts = torch::optim::AdamWOptions(1e-3).weight_decay(0.1);
  torch::optim::AdamW want(a, opts);
  set_grads(a, b);
  want.step();
  std::stringstream archive;
  torch::save(want, archive);
  FusedAdamW got(b, opts);
  torch::load(got, archive);
  torch::NoGradGuard no_grad;
  for (size_t i = 0; i < a.size(); ++i) b[i].copy_(a[i]);
  EXPECT_NE(dynamic_cast<torch::optim::AdamW*>(&got), nullptr);
  for (int step = 0; step < 3; ++step) {
    set_grads(a, b);
    want.step();
    got.step();
  }
  expect_params_close(b, a);
}

// State restored as plain contiguous tensors (as load_optimizer_state does)
// for a channels_last parameter is re-laid out, not refused.
TEST(FusedAdamW, AcceptsStateInAnotherLayout) {
  fresh_seed();
  auto a = make_params(), b = clone_params(a);
  torch::optim::AdamW want(a, torch::optim::AdamWOptions(1e-3));
  FusedAdamW got(b, torch::optim::AdamWOptions(1e-3));
  set_grads(a, b);
  want.step();
  for (size_t i = 0; i < a.size(); ++i) {
    auto& sw = static_cast<torch::optim::AdamWParamState&>(*want.state().at(a[i].unsafeGetTensorImpl()));
    auto s = std::make_unique<torch::optim::AdamWParamState>();
    s->step(sw.step());
    s->exp_avg(sw.exp_avg().contiguous().clone());
    s->exp_avg_sq(sw.exp_avg_sq().contiguous().clone());
    got.state()[b[i].unsafeGetTensorImpl()] = std::move(s);
    torch::NoGradGuard ng;
    b[i].copy_(a[i]);
  }
  set_grads(a, b);
  want.step();
  got.step();
  expect_params_close(b, a);
}

TEST(FusedAdamW, RefusesAmsgrad) {
  auto a = make_params();
  try {
    FusedAdamW opt(a, torch::optim::AdamWOptions(1e-3).amsgrad(true));
    FAIL() << "amsgrad accepted";
  } catch (const c10::Error& e) {
    EXPECT_NE(std::string(e.what()).find("amsgrad is not supported"), std::string::npos) << e.what();
  }
}

TEST(FusedSGD, MatchesTorchSGDForEveryVariant) {
  fresh_seed();
  const std::vector<torch::optim::SGDOptions> variants = {
      torch::optim::SGDOptions(0.1),
      torch::optim::SGDOptions(0.1).momentum(0.9),
      torch::optim::SGDOptions(0.05).momentum(0.9).dampening(0.3).weight_decay(1e-3),
      torch::optim::SGDOptions(0.05).momentum(0.8).nesterov(true).weight_decay(1e-2)};
  for (size_t v = 0; v < variants.size(); ++v) {
    auto a = make_params(), b = clone_params(a);
    torch::optim::SGD want(a, variants[v]);
    FusedSGD got(b, variants[v]);
    for (int step = 0; step < 5; ++step) {
      set_grads(a, b);
      want.step();
      got.step();
    }
    SCOPED_TRACE("variant " + std::to_string(v));
    expect_params_close(b, a);
    EXPECT_EQ(got.state().size(), want.state().size());
  }
}

// The op with inv_scale equals the op on pre-unscaled gradients; found_inf = 1
// leaves everything untouched.
TEST(FusedAdamWStep, AmpUnscaleAndSkip) {
  fresh_seed();
  std::vector<torch::Tensor> p = {torch::randn({1000}), torch::randn({17})};
  std::vector<torch::Tensor> g = {torch::randn({1000}) * 1024, torch::randn({17}) * 1024};
  auto zeros = [] { return std::vector<torch::Tensor>{torch::zeros({1000}), torch::zeros({17})}; };
  auto m1 = zeros(), v1 = zeros(), m2 = zeros(), v2 = zeros();
  std::vector<torch::Tensor> p2 = {p[0].clone(), p[1].clone()};
  std::vector<torch::Tensor> g2 = {g[0] / 1024, g[1] / 1024};
  const std::vector<int64_t> steps = {1, 1};
  AdamWStepOptions o;
  fused_adamw_step(p, g, m1, v1, steps, o, torch::full({1}, 1.f / 1024), torch::zeros({1}));
  fused_adamw_step(p2, g2, m2, v2, steps, o);
  expect_params_close(p, p2, 0, 0);  // scaling by a power of two is exact
  auto before = p[0].clone();
  fused_adamw_step(p, g, m1, v1, {2, 2}, o, c10::nullopt, torch::ones({1}));
  EXPECT_TRUE(torch::equal(p[0], before));
}

TEST(MultiTensorUnscaleCheck, MatchesCompositeAndFlagsNonFinite) {
  fresh_seed();
  std::vector<torch::Tensor> g = {torch::randn({129}), torch::randn({4, 4})};
  auto want0 = g[0] * 0.25f;
  auto found = torch::zeros({1});
  multi_tensor_unscale_check_(g, torch::full({1}, 0.25f), found);
  EXPECT_TRUE(torch::equal(g[0], want0));
  EXPECT_EQ(found.item<float>(), 0.f);
  g[1][2][3] = std::numeric_limits<float>::quiet_NaN();
  multi_tensor_unscale_check_(g, torch::full({1}, 1.f), found);
  EXPECT_EQ(found.item<float>(), 1.f);
}

TEST(FusedAdamWStep, RefusesBadArguments) {
  std::vector<torch::Tensor> p = {torch::randn({4, 6})}, m = {torch::zeros({4, 6})}, v = {torch::zeros({4, 6})};
  AdamWStepOptions o;
  expect_error([&] { fused_adamw_step(p, {torch::randn({4, 12}).slice(1, 0, 12, 2)}, m, v, {1}, o); },
               "grads[0] is not dense");
  expect_error([&] { fused_adamw_step(p, {torch::randn({6, 4}).t()}, m, v, {1}, o); }, "grads[0] has sizes");
  expect_error([&] { fused_adamw_step(p, {torch::randn({4, 6}, torch::kDouble)}, m, v, {1}, o); },
               "grads[0] must be Float");
  expect_error([&] { fused_adamw_step(p, {}, m, v, {1}, o); }, "grads has 0 tensors, expected 1");
  expect_error([&] { fused_adamw_step(p, p, m, v, {0}, o); }, "steps[0] must be >= 1");
  expect_error([&] { fused_adamw_step(p, p, m, v, {1}, o, torch::ones({2})); }, "inv_scale must hold one element");
  expect_error([&] { fused_sgd_step(p, p, {}, {}, SgdStepOptions{0.1, 0.0, 0.0, 0.0, true}); },
               "nesterov momentum requires");
}

// ---- CUDA: the kernels against the CPU reference (skipped without a GPU) ----

TEST(FusedAdamWCuda, MatchesReference) {
  MEDTRAIN_SKIP_WITHOUT_CUDA();
  fresh_seed();
  for (double wd : {0.0, 0.01}) {
    auto cpu = make_params(), gpu = make_params(torch::kCUDA);
    {
      torch::NoGradGuard ng;
      for (size_t i = 0; i < cpu.size(); ++i) gpu[i].copy_(cpu[i]);
    }
    auto opts = torch::optim::AdamWOptions(2e-3).weight_decay(wd);
    FusedAdamW a(cpu, opts), b(gpu, opts);
    for (int step = 0; step < 4; ++step) {
      for (size_t i = 0; i < cpu.size(); ++i) {
        auto g = torch::randn_like(cpu[i]);
        cpu[i].mutable_grad() = g;
        gpu[i].mutable_grad() = g.to(torch::kCUDA).contiguous(cpu[i].suggest_memory_format());
      }
      a.step();
      b.step();
    }
    expect_params_close(gpu, cpu, 1e-6, 1e-7);
  }
}

TEST(FusedSGDCuda, MatchesReference) {
  MEDTRAIN_SKIP_WITHOUT_CUDA();
  fresh_seed();
  auto cpu = make_params(), gpu = make_params(torch::kCUDA);
  {
    torch::NoGradGuard ng;
    for (size_t i = 0; i < cpu.size(); ++i) gpu[i].copy_(cpu[i]);
  }
  auto opts = torch::optim::SGDOptions(0.05).momentum(0.9).nesterov(true).weight_decay(1e-4);
  FusedSGD a(cpu, opts), b(gpu, opts);
  for (int step = 0; step < 4; ++step) {
    for (size_t i = 0; i < cpu.size(); ++i) {
      auto g = torch::randn_like(cpu[i]);
      cpu[i].mutable_grad() = g;
      gpu[i].mutable_grad() = g.to(torch::kCUDA);
    }
    a.step();
    b.step();
  }
  expect_params_close(gpu, cpu, 1e-6, 1e-7);
}

TEST(MultiTensorUnscaleCheckCuda, MatchesReferenceAndSkipsAdamWOnInf) {
  MEDTRAIN_SKIP_WITHOUT_CUDA();
  fresh_seed();
  std::vector<torch::Tensor> g = {torch::randn({200003}, torch::kCUDA), torch::randn({5}, torch::kCUDA)};
  auto want = g[0].cpu() * 0.125f;
  auto found = torch::zeros({1}, torch::kCUDA);
  const auto inv = torch::full({1}, 0.125f, torch::kCUDA);
  multi_tensor_unscale_check_(g, inv, found);
  EXPECT_TRUE(torch::equal(g[0].cpu(), want));
  EXPECT_EQ(found.item<float>(), 0.f);
  g[0][199999] = std::numeric_limits<float>::infinity();
  multi_tensor_unscale_check_(g, inv, found);
  EXPECT_EQ(found.item<float>(), 1.f);
  std::vector<torch::Tensor> p = {torch::randn({200003}, torch::kCUDA), torch::randn({5}, torch::kCUDA)};
  auto before = p[0].clone();
  std::vector<torch::Tensor> m = {torch::zeros_like(p[0]), torch::zeros_like(p[1])};
  std::vector<torch::Tensor> v = {torch::zeros_like(p[0]), torch::zeros_like(p[1])};
  fused_adamw_step(p, g, m, v, {1, 1}, AdamWStepOptions{}, inv, found);
  EXPECT_TRUE(torch::equal(p[0], before));
}

}  // namespace
}  // namespace medtrain::kernels
