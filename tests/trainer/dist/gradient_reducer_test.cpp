// GradientReducer against plain autograd. A fake two-rank communicator stands
// in for the network: the "other rank" contributes 3x this rank's gradient, so
// the averaged result must be exactly 2x the local gradient, once per synced
// step (reducing twice or not at all shows). The Net has an unused layer, so
// these tests run with find_unused_parameters (reducer_errors_test.cpp: without).
#include "trainer/dist/gradient_reducer.h"

#include <gtest/gtest.h>
#include <torch/torch.h>

#include "tests/trainer/dist/fake_two_ranks.h"

namespace medtrain::dist {
namespace {

using testing::FakeTwoRanks;

struct Net : torch::nn::Module {
  explicit Net(bool with_unused = true) {
    a = register_module("a", torch::nn::Linear(8, 16));
    b = register_module("b", torch::nn::Linear(16, 4));
    if (with_unused) unused = register_module("unused", torch::nn::Linear(3, 3));
  }
  torch::Tensor forward(const torch::Tensor& x) { return b->forward(torch::relu(a->forward(x))); }
  torch::nn::Linear a{nullptr}, b{nullptr}, unused{nullptr};
};

GradientReducer::NamedParams named(Net& net) {
  GradientReducer::NamedParams out;
  for (auto& item : net.named_parameters()) out.emplace_back(item.key(), item.value());
  return out;
}

// Gradients of `net` for `inputs`, computed without any reducer on a copy.
std::map<std::string, torch::Tensor> reference_grads(Net& net, const std::vector<torch::Tensor>& inputs) {
  Net copy;
  torch::NoGradGuard g;
  for (auto& item : copy.named_parameters()) item.value().copy_(net.named_parameters()[item.key()]);
  {
    torch::AutoGradMode on(true);
    for (const auto& x : inputs) copy.forward(x).square().sum().backward();
  }
  std::map<std::string, torch::Tensor> out;
  for (auto& item : copy.named_parameters()) {
    out[item.key()] = item.value().grad().defined() ? item.value().grad().clone() : torch::zeros_like(item.value());
  }
  return out;
}

class Reducer : public ::testing::Test {
 protected:
  void SetUp() override { torch::manual_seed(1); }
  static ReducerOptions opts() {
    ReducerOptions o;
    o.limits = {64, 256};
    o.find_unused_parameters = true;
    return o;
  }
  Net net;
  FakeTwoRanks comm;
};

TEST_F(Reducer, SyncedStepAveragesOnceAndKeepsGradientsAsViews) {
  GradientReducer reducer(named(net), comm, opts());
  const auto x = torch::randn({5, 8});
  const auto want = reference_grads(net, {x});
  const void* grad_ptr = net.a->weight.grad().data_ptr();
  reducer.zero_grad();
  reducer.begin_backward(true);
  net.forward(x).square().sum().backward();
  reducer.finish();
  for (auto& item : net.named_parameters()) {
    EXPECT_TRUE(torch::allclose(item.value().grad(), 2 * want.at(item.key()), 1e-6, 1e-6)) << item.key();
  }
  EXPECT_EQ(net.a->weight.grad().data_ptr(), grad_ptr) << "gradient is no longer a view into its bucket";
  EXPECT_EQ(comm.launched.size(), reducer.bucket_count());
  EXPECT_EQ(comm.ops, std::vector<ReduceOp>(comm.ops.size(), ReduceOp::kAvg)) << "unfused path averages";
}

TEST_F(Reducer, BucketsLaunchDuringBackwardInPlanOrder) {
  // Without unused parameters every bucket completes inside backward.
  Net used_only(/*with_unused=*/false);
  GradientReducer reducer(named(used_only), comm, opts());
  reducer.zero_grad();
  reducer.begin_backward(true);
  used_only.forward(torch::randn({3, 8})).sum().backward();
  EXPECT_EQ(comm.launched.size(), reducer.bucket_count()) << "buckets waited for finish()";
  reducer.finish();
  // Plan order: reverse registration, 64-byte first bucket, 256-byte others.
  std::vector<ParamSlot> slots;
  for (auto& item : used_only.named_parameters()) slots.push_back({item.value().numel(), 4, "float"});
  std::vector<int64_t> expect;
  for (const auto& bucket : plan_buckets(slots, {64, 256})) {
    int64_t n = 0;
    for (size_t p : bucket) n += slots[p].numel;
    expect.push_back(n);
  }
  EXPECT_EQ(comm.launched, expect);
}

TEST_F(Reducer, AccumulationCommunicatesOnlyOnTheLastMicroStep) {
  GradientReducer reducer(named(net), comm, opts());
  const auto x1 = torch::randn({4, 8}), x2 = torch::randn({4, 8});
  const auto want = reference_grads(net, {x1, x2});
  reducer.zero_grad();
  reducer.begin_backward(false);
  net.forward(x1).square().sum().backward();
  EXPECT_TRUE(comm.launched.empty());
  reducer.begin_backward(true);
  net.forward(x2).square().sum().backward();
  reducer.finish();
  EXPECT_EQ(comm.launched.size(), reducer.bucket_count());
  for (auto& item : net.named_parameters()) {
    EXPECT_TRUE(torch::allclose(item.value().grad(), 2 * want.at(item.key()), 1e-5, 1e-6)) << item.key();
  }
}

TEST_F(Reducer, UnusedParametersAreReducedAsZerosAndNamed) {
  GradientReducer reducer(named(net), comm, opts());
  reducer.zero_grad();
  reducer.begin_backward(true);
  net.forward(torch::randn({2, 8})).sum().backward();
  reducer.finish();
  EXPECT_EQ(reducer.unused_parameters(), (std::vector<std::string>{"unused.weight", "unused.bias"}));
  EXPECT_EQ(net.unused->weight.grad().abs().sum().item<float>(), 0.0f);
  EXPECT_EQ(comm.launched.size(), reducer.bucket_count());
}

TEST_F(Reducer, ZeroGradClearsTheBuckets) {
  GradientReducer reducer(named(net), comm, opts());
  reducer.begin_backward(true);
  net.forward(torch::randn({2, 8})).sum().backward();
  reducer.finish();
  reducer.zero_grad();
  for (auto& p : net.parameters()) EXPECT_EQ(p.grad().abs().sum().item<float>(), 0.0f);
}

}  // namespace
}  // namespace medtrain::dist
