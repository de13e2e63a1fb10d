// Gradient views follow their parameter's strides: a channels_last conv weight
// gets a channels_last gradient that is still a view into its bucket, the
// all-reduce result is right (against plain autograd), and the optimizer's
// multi-tensor lists take every gradient as it is (no per-step copy).
#include <gtest/gtest.h>
#include <torch/torch.h>

#include "kernels/optimizer_lists.h"
#include "models/cv/resnet_blocks.h"
#include "tests/trainer/dist/fake_two_ranks.h"
#include "trainer/dist/gradient_reducer.h"

namespace medtrain::dist {
namespace {

using testing::FakeTwoRanks;

void to_channels_last(torch::nn::Module& m) {
  for (auto& p : m.parameters()) {
    if (p.dim() == 4) p.set_data(p.data().contiguous(at::MemoryFormat::ChannelsLast));
  }
}

GradientReducer::NamedParams named(torch::nn::Module& m) {
  GradientReducer::NamedParams out;
  for (auto& item : m.named_parameters()) out.emplace_back(item.key(), item.value());
  return out;
}

// Plain autograd on a copy (same values, same layouts), no reducer.
template <typename Make, typename Forward>
std::map<std::string, torch::Tensor> reference_grads(torch::nn::Module& m, Make make, Forward fwd,
                                                     const torch::Tensor& x) {
  auto copy = make();
  {
    torch::NoGradGuard g;
    for (auto& item : copy->named_parameters()) item.value().copy_(m.named_parameters()[item.key()]);
  }
  fwd(copy, x).square().sum().backward();
  std::map<std::string, torch::Tensor> out;
  for (auto& item : copy->named_parameters()) out[item.key()] = item.value().grad().clone();
  return out;
}

ReducerOptions small_buckets(bool follow_strides = true) {
  ReducerOptions o;
  o.limits = {256, 4096};
  o.grads_follow_strides = follow_strides;
  return o;
}

struct MixedNet : torch::nn::Module {
  // conv1 channels_last, conv2 NCHW, fc 2-d: three layouts in one model.
  MixedNet() {
    conv1 = register_module("conv1", torch::nn::Conv2d(torch::nn::Conv2dOptions(3, 8, 3).padding(1)));
    conv2 = register_module("conv2", torch::nn::Conv2d(torch::nn::Conv2dOptions(8, 4, 3).padding(1)));
    fc = register_module("fc", torch::nn::Linear(4, 2));
    auto& w = conv1->weight;
    w.set_data(w.data().contiguous(at::MemoryFormat::ChannelsLast));
  }
  torch::Tensor forward(const torch::Tensor& x) {
    auto h = torch::relu(conv1->forward(x.contiguous(at::MemoryFormat::ChannelsLast)));
    h = torch::relu(conv2->forward(h.contiguous()));
    return fc->forward(h.mean({2, 3}));
  }
  torch::nn::Conv2d conv1{nullptr}, conv2{nullptr};
  torch::nn::Linear fc{nullptr};
};

TEST(GradientLayout, MixedMemoryFormatsGetTheirParametersStridesAndReduceCorrectly) {
  torch::manual_seed(3);
  auto net = std::make_shared<MixedNet>();
  ASSERT_TRUE(net->conv1->weight.is_contiguous(at::MemoryFormat::ChannelsLast));
  ASSERT_FALSE(net->conv1->weight.is_contiguous());
  const auto x = torch::randn({2, 3, 6, 6});
  const auto want = reference_grads(
      *net, [] { return std::make_shared<MixedNet>(); }, [](auto& m, const auto& in) { return m->forward(in); }, x);
  FakeTwoRanks comm;
  GradientReducer reducer(named(*net), comm, small_buckets());
  reducer.zero_grad();
  reducer.begin_backward(true);
  net->forward(x).square().sum().backward();
  reducer.finish();
  for (auto& item : net->named_parameters()) {
    const auto& p = item.value();
    const auto& g = p.grad();
    EXPECT_EQ(g.strides(), p.strides()) << item.key();
    EXPECT_TRUE(torch::allclose(g, 2 * want.at(item.key()), 1e-5, 1e-6)) << item.key();
  }
  EXPECT_TRUE(net->conv1->weight.grad().is_contiguous(at::MemoryFormat::ChannelsLast));
  EXPECT_TRUE(net->conv2->weight.grad().is_contiguous());
}

// Every gradient's storage is its bucket's: the all-reduce writes where the optimizer reads.
void expect_views_into_buckets(torch::nn::Module& m) {
  std::set<const void*> storages;
  for (auto& p : m.parameters()) storages.insert(p.grad().storage().data());
  EXPECT_LT(storages.size(), m.parameters().size()) << "gradients are not packed into buckets";
}

TEST(GradientLayout, ChannelsLastResNetBlockNeedsNoGradientCopyInTheOptimizer) {
  torch::manual_seed(4);
  auto make = [] { return models::Bottleneck(64, 16, 1, torch::nn::Sequential(nullptr)); };
  auto block = make();
  to_channels_last(*block);
  const auto x = torch::randn({2, 64, 5, 5}).contiguous(at::MemoryFormat::ChannelsLast);
  FakeTwoRanks comm;
  GradientReducer reducer(named(*block), comm, small_buckets());
  reducer.zero_grad();
  reducer.begin_backward(true);
  block->forward(x).square().sum().backward();
  reducer.finish();
  int conv_weights = 0;
  for (auto& item : block->named_parameters()) {
    const auto& p = item.value();
    if (p.dim() == 4) {
      ++conv_weights;
      EXPECT_TRUE(p.grad().is_contiguous(at::MemoryFormat::ChannelsLast)) << item.key();
    }
    const auto g = kernels::detail::grad_like_param(p, "test");
    EXPECT_EQ(g.data_ptr(), p.grad().data_ptr()) << item.key() << ": the optimizer would copy this gradient";
  }
  EXPECT_EQ(conv_weights, 3);
  expect_views_into_buckets(*block);
}

TEST(GradientLayout, ContiguousViewsStillSelectableAndCopiedByTheOptimizer) {
  // The old layout (benchmark only): a channels_last weight gets an NCHW
  // gradient, which the optimizer lists must re-lay out every step.
  auto block = models::Bottleneck(64, 16, 1, torch::nn::Sequential(nullptr));
  to_channels_last(*block);
  FakeTwoRanks comm;
  GradientReducer reducer(named(*block), comm, small_buckets(/*follow_strides=*/false));
  reducer.zero_grad();
  reducer.begin_backward(true);
  block->forward(torch::randn({1, 64, 4, 4}).contiguous(at::MemoryFormat::ChannelsLast)).sum().backward();
  reducer.finish();
  int relaid = 0;
  for (auto& p : block->parameters()) {
    // 1x1 convolutions are both NCHW- and channels_last-contiguous: nothing to re-lay out.
    if (p.is_contiguous()) continue;
    ++relaid;
    EXPECT_TRUE(p.grad().is_contiguous());
    EXPECT_NE(kernels::detail::grad_like_param(p, "test").data_ptr(), p.grad().data_ptr());
  }
  EXPECT_EQ(relaid, 1) << "the 3x3 conv";
}

}  // namespace
}  // namespace medtrain::dist
