// medtrain's own oneDNN convolution primitives (models/cv/onednn, used by
// FusedConv2d when the build found libdnnl) against at::conv2d followed by the
// same epilogue in LibTorch: every geometry the inference graphs use (1x1,
// 3x3 direct and Winograd, strided, dilated, the 7x7 stem; depthwise ones go
// to ATen and are checked as well; 3D), every post-op, batch 1 and 3, and
// inputs that are not channels_last.
#include <gtest/gtest.h>
#include <torch/torch.h>

#include <string>
#include <thread>
#include <vector>

#include "models/cv/fused_conv.h"
#include "models/cv/onednn/conv_primitive.h"
#include "models/cv/own_conv.h"
#include "models/model_error.h"

using namespace medtrain::models;

namespace {

double relative_error(const torch::Tensor& got, const torch::Tensor& want) {
  return (got - want).abs().max().item<double>() / want.abs().max().item<double>();
}

struct Geometry {
  std::string name;
  int64_t in, out, kernel, stride, padding, dilation, groups, size;
};

class OwnOneDnnConv : public ::testing::TestWithParam<Geometry> {
 protected:
  void SetUp() override {
    if (!onednn::available()) GTEST_SKIP() << "built without libdnnl: FusedConv2d runs ATen's oneDNN calls";
  }
};

TEST_P(OwnOneDnnConv, EqualsAtenConvolutionWithEachEpilogue) {
  const Geometry g = GetParam();
  torch::manual_seed(7);
  const torch::Tensor w = torch::randn({g.out, g.in / g.groups, g.kernel, g.kernel}) * 0.1;
  const torch::Tensor b = torch::randn({g.out});
  const ConvGeometry geometry{{g.stride, g.stride}, {g.padding, g.padding}, {g.dilation, g.dilation}, g.groups};
  const FusedConv2d fused({w, b}, geometry, torch::kCPU);
  // Depthwise convolutions stay with ATen's oneDNN (fused_conv.cpp says why).
  ASSERT_EQ(fused.uses_own_primitives(), g.groups == 1);
  for (int64_t batch : {1, 3}) {
    // Plain NCHW on purpose: the primitive must convert, not misread, it.
    const torch::Tensor x = torch::randn({batch, g.in, g.size, g.size});
    const torch::Tensor want = torch::conv2d(x, w, b, g.stride, g.padding, g.dilation, g.groups);
    SCOPED_TRACE(g.name + " batch " + std::to_string(batch));
    EXPECT_LT(relative_error(fused(x, Epilogue::kNone), want), 1e-5);
    EXPECT_LT(relative_error(fused(x, Epilogue::kRelu), torch::relu(want)), 1e-5);
    EXPECT_LT(relative_error(fused(x, Epilogue::kSilu), torch::silu(want)), 1e-5);
    const torch::Tensor r = torch::randn(want.sizes());
    EXPECT_LT(relative_error(fused.add(x, r.clone()), want + r), 1e-5);
    EXPECT_LT(relative_error(fused.add_relu(x, r.clone()), torch::relu(want + r)), 1e-5);
  }
}

INSTANTIATE_TEST_SUITE_P(
    Geometries, OwnOneDnnConv,
    ::testing::Values(Geometry{"pointwise", 24, 40, 1, 1, 0, 1, 1, 9},
                      // ResNet's 3x3 at 28x28: Winograd on AVX-512 (Note [Winograd with reorders])
                      Geometry{"winograd", 64, 64, 3, 1, 1, 1, 1, 28},
                      Geometry{"small3x3", 8, 16, 3, 1, 1, 1, 1, 10}, Geometry{"strided", 16, 32, 3, 2, 1, 1, 1, 11},
                      Geometry{"dilated", 8, 8, 3, 1, 2, 2, 1, 12}, Geometry{"depthwise", 32, 32, 3, 1, 1, 1, 32, 14},
                      Geometry{"stem", 3, 16, 7, 2, 3, 1, 1, 32}),
    [](const auto& info) { return info.param.name; });

onednn::ConvShape shape_3x3(int64_t batch, int64_t in, int64_t out, int64_t size, int64_t groups = 1) {
  onednn::ConvShape s;
  s.batch = batch, s.in_channels = in, s.out_channels = out, s.groups = groups;
  s.in_size = {size, size}, s.kernel = {3, 3}, s.stride = {1, 1}, s.padding = {1, 1}, s.dilation = {1, 1};
  return s;
}

// The Winograd rule picks Winograd for the big 3x3s only, never for a sum.
TEST(OwnOneDnnConvChoice, WinogradOnlyForLarge3x3WithoutASum) {
  if (!onednn::available()) GTEST_SKIP() << "built without libdnnl";
  const std::vector<float> w(64 * 64 * 9, 0.01f), b(64, 0.0f);
  const onednn::ConvPrimitive relu(shape_3x3(1, 64, 64, 28), w.data(), b.data(), onednn::PostOp::kRelu);
  const onednn::ConvPrimitive sum(shape_3x3(1, 64, 64, 28), w.data(), b.data(), onednn::PostOp::kSum);
  EXPECT_EQ(sum.implementation().find("wino"), std::string::npos) << sum.implementation();
  if (relu.implementation().find("wino") == std::string::npos) {
    GTEST_SKIP() << "oneDNN has no Winograd kernel on this CPU (" << relu.implementation() << ")";
  }
  // Too few channels: the reorders would cost more than they save.
  const onednn::ConvPrimitive small(shape_3x3(1, 16, 16, 28), w.data(), b.data(), onednn::PostOp::kRelu);
  EXPECT_EQ(small.implementation().find("wino"), std::string::npos) << small.implementation();
}

// The primitive itself on a grouped convolution (FusedConv2d leaves those to
// ATen, but the primitive supports them): [G, O/G, I/G, kh, kw] weights.
TEST(OwnOneDnnConvChoice, GroupedConvolutionEqualsAten) {
  if (!onednn::available()) GTEST_SKIP() << "built without libdnnl";
  torch::manual_seed(9);
  const torch::Tensor w = torch::randn({12, 2, 3, 3}), b = torch::randn({12});
  const torch::Tensor x = torch::randn({2, 8, 9, 9});
  const onednn::ConvPrimitive p(shape_3x3(2, 8, 12, 9, 4), w.data_ptr<float>(), b.data_ptr<float>(),
                                onednn::PostOp::kNone);
  ASSERT_EQ(p.out_size(), (std::vector<int64_t>{9, 9}));
  const torch::Tensor src = x.contiguous(torch::MemoryFormat::ChannelsLast);
  torch::Tensor dst = torch::empty({2, 12, 9, 9}, torch::MemoryFormat::ChannelsLast);
  std::vector<char> scratch(p.scratchpad_bytes() + 1);
  p.run(src.data_ptr<float>(), dst.data_ptr<float>(), scratch.data());
  EXPECT_LT(relative_error(dst, torch::conv2d(x, w, b, 1, 1, 1, 4)), 1e-5);
}

// 3D (the 3D U-Net's convolutions, channels_last_3d), against at::conv3d:
// plain, strided with ReLU, and with a residual sum; an input that is not
// channels_last_3d is converted.
TEST(OwnOneDnnConv3d, EqualsAtenConv3d) {
  if (!onednn::available()) GTEST_SKIP() << "built without libdnnl";
  torch::manual_seed(10);
  const torch::Tensor w = torch::randn({16, 8, 3, 3, 3}) * 0.1, b = torch::randn({16});
  for (int64_t stride : {1, 2}) {
    const OwnConv conv(w, b, {stride, stride, stride}, {1, 1, 1}, {1, 1, 1}, 1);
    const torch::Tensor x = torch::randn({2, 8, 7, 10, 9});
    const torch::Tensor want = torch::conv3d(x, w, b, stride, 1);
    SCOPED_TRACE("stride " + std::to_string(stride));
    EXPECT_LT(relative_error(conv(x, torch::Tensor(), onednn::PostOp::kNone), want), 1e-5);
    EXPECT_LT(relative_error(conv(x, torch::Tensor(), onednn::PostOp::kRelu), torch::relu(want)), 1e-5);
    const torch::Tensor r = torch::randn(want.sizes());
    EXPECT_LT(relative_error(conv(x, r.clone(), onednn::PostOp::kSum), want + r), 1e-5);
  }
}

// One FusedConv2d called from two threads at once (infer's batch chunks do):
// each call has its own scratch memory and output.
TEST(OwnOneDnnConvThreads, ConcurrentCallsGiveEachTheirOwnResult) {
  if (!onednn::available()) GTEST_SKIP() << "built without libdnnl";
  torch::manual_seed(8);
  const torch::Tensor w = torch::randn({32, 32, 3, 3}) * 0.1, b = torch::randn({32});
  const FusedConv2d fused({w, b}, {{1, 1}, {1, 1}, {1, 1}, 1}, torch::kCPU);
  std::vector<torch::Tensor> xs, got(4);
  for (int i = 0; i < 4; ++i) xs.push_back(torch::randn({2, 32, 30, 30}));
  std::vector<std::thread> threads;
  for (int i = 0; i < 4; ++i) {
    threads.emplace_back([&, i] {
      torch::NoGradGuard no_grad;
      for (int k = 0; k < 5; ++k) got[i] = fused(xs[i], Epilogue::kRelu);
    });
  }
  for (auto& t : threads) t.join();
  for (int i = 0; i < 4; ++i) {
    EXPECT_LT(relative_error(got[i], torch::relu(torch::conv2d(xs[i], w, b, 1, 1))), 1e-5) << "thread " << i;
  }
}

TEST(OwnOneDnnConvErrors, WrongChannelsOrResidualShapeIsAModelError) {
  if (!onednn::available()) GTEST_SKIP() << "built without libdnnl";
  const FusedConv2d fused({torch::randn({8, 4, 3, 3}), torch::zeros({8})}, {{1, 1}, {1, 1}, {1, 1}, 1}, torch::kCPU);
  EXPECT_THROW(fused(torch::randn({1, 5, 8, 8}), Epilogue::kNone), ModelError);
  EXPECT_THROW(fused.add(torch::randn({1, 4, 8, 8}), torch::randn({1, 8, 7, 8})), ModelError);
  EXPECT_THROW(fused(torch::randn({4, 8, 8}), Epilogue::kNone), ModelError);
}

}  // namespace
