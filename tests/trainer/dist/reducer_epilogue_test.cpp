// The fused bucket epilogue (all-reduce kSum, then bucket_epilogue_ scales by
// 1/(world * loss_scale) and raises found_inf) against the unfused path
// (all-reduce kAvg, then the GradScaler unscales and checks). On the CPU the
// epilogue runs its reference loop; the reducer's option forces it here.
#include <gtest/gtest.h>
#include <torch/torch.h>

#include <limits>

#include "tests/trainer/dist/fake_two_ranks.h"
#include "trainer/dist/gradient_reducer.h"
#include "trainer/engine/grad_scaler.h"

namespace medtrain::dist {
namespace {

using testing::FakeTwoRanks;

struct Net : torch::nn::Module {
  Net() {
    conv = register_module("conv", torch::nn::Conv2d(torch::nn::Conv2dOptions(2, 4, 3).padding(1)));
    fc = register_module("fc", torch::nn::Linear(4, 3));
  }
  torch::Tensor forward(const torch::Tensor& x) { return fc->forward(torch::relu(conv->forward(x)).mean({2, 3})); }
  torch::nn::Conv2d conv{nullptr};
  torch::nn::Linear fc{nullptr};
};

GradientReducer::NamedParams named(torch::nn::Module& m) {
  GradientReducer::NamedParams out;
  for (auto& item : m.named_parameters()) out.emplace_back(item.key(), item.value());
  return out;
}

struct StepResult {
  std::map<std::string, torch::Tensor> grads;
  bool finite = true;
  std::vector<ReduceOp> ops;
};

// One data-parallel step of a fresh Net (seeded: both paths start equal)
// through the trainer's sequence: scale the loss, backward, finish, then the
// scaler unscales (unfused) or reads the reducer's found_inf (fused).
StepResult step(bool fused, double loss_scale, const torch::Tensor& x, torch::ScalarType dtype = torch::kFloat,
                torch::Device device = torch::kCPU) {
  torch::manual_seed(7);
  Net net;
  net.to(device, dtype);
  FakeTwoRanks comm;
  ReducerOptions o;
  o.limits = {128, 1024};
  o.fused_epilogue = fused;
  GradientReducer reducer(named(net), comm, o);
  engine::GradScaler scaler(/*enabled=*/loss_scale != 1.0, loss_scale);
  reducer.zero_grad();
  reducer.begin_backward(true);
  scaler.scale(net.forward(x.to(device, dtype)).square().sum()).backward();
  reducer.finish(scaler.current_scale());
  StepResult r;
  EXPECT_EQ(reducer.unscales_gradients(), fused);
  r.finite = fused ? scaler.check_found_inf(reducer.found_inf()) : scaler.unscale_and_check(net);
  if (fused) EXPECT_EQ(reducer.found_inf().item<float>() != 0.f, !r.finite);
  for (auto& item : net.named_parameters()) r.grads[item.key()] = item.value().grad().cpu();
  r.ops = comm.ops;
  return r;
}

void expect_same_grads(const StepResult& fused, const StepResult& unfused) {
  ASSERT_EQ(fused.grads.size(), unfused.grads.size());
  for (const auto& [name, g] : unfused.grads) {
    const auto& f = fused.grads.at(name);
    // fp32: x*4/2/s (unfused) and x*4*(1/(2s)) (fused) are both exact for powers of two.
    EXPECT_TRUE(torch::equal(f, g)) << name << ": max diff " << (f - g).abs().max().item<double>();
  }
}

TEST(ReducerEpilogue, FusedEqualsUnfusedWithoutLossScale) {
  const auto x = torch::randn({3, 2, 5, 5});
  const auto fused = step(true, 1.0, x), unfused = step(false, 1.0, x);
  expect_same_grads(fused, unfused);
  EXPECT_TRUE(fused.finite);
  EXPECT_EQ(fused.ops, std::vector<ReduceOp>(fused.ops.size(), ReduceOp::kSum));
  EXPECT_EQ(unfused.ops, std::vector<ReduceOp>(unfused.ops.size(), ReduceOp::kAvg));
  // And both are the mean over the (fake) ranks: 2x one rank's gradient.
  EXPECT_GT(fused.ops.size(), 1u) << "test meant to cover several buckets";
}

TEST(ReducerEpilogue, FusedEqualsUnfusedWithLossScale) {
  const auto x = torch::randn({3, 2, 5, 5});
  const auto fused = step(true, 1024.0, x), unfused = step(false, 1024.0, x);
  expect_same_grads(fused, unfused);
  EXPECT_TRUE(fused.finite);
  EXPECT_TRUE(unfused.finite);
  // Unscaled: the same as an unscaled step's gradients.
  expect_same_grads(fused, step(false, 1.0, x));
}

TEST(ReducerEpilogue, NonFp32BucketsTakeTheSameStepsInATen) {
  const auto x = torch::randn({2, 2, 4, 4});
  const auto fused = step(true, 256.0, x, torch::kDouble), unfused = step(false, 256.0, x, torch::kDouble);
  expect_same_grads(fused, unfused);
}

TEST(ReducerEpilogue, InfiniteGradientRaisesFoundInf) {
  auto x = torch::randn({2, 2, 4, 4});
  x[0][1][2][3] = std::numeric_limits<float>::infinity();
  const auto fused = step(true, 1024.0, x), unfused = step(false, 1024.0, x);
  EXPECT_FALSE(fused.finite) << "found_inf not raised";
  EXPECT_FALSE(unfused.finite);
  const auto fused_double = step(true, 1024.0, x, torch::kDouble);
  EXPECT_FALSE(fused_double.finite);
}

TEST(ReducerEpilogue, CudaKernelEqualsUnfusedPath) {
  if (!torch::cuda::is_available()) GTEST_SKIP() << "no CUDA device: the fused epilogue's CUDA kernel is not run";
  const auto x = torch::randn({3, 2, 5, 5});
  expect_same_grads(step(true, 1024.0, x, torch::kFloat, torch::kCUDA), step(false, 1024.0, x, torch::kFloat, torch::kCUDA));
  auto bad = x.clone();
  bad[1][0][0][0] = std::numeric_limits<float>::quiet_NaN();
  EXPECT_FALSE(step(true, 1024.0, bad, torch::kFloat, torch::kCUDA).finite);
}

}  // namespace
}  // namespace medtrain::dist
