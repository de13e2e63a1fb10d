// The fused graphs' batch chunks (models/cv/batch_chunks.h) and DenseNet's
// one-pass affine + ReLU (models/cv/channel_affine_relu.h) against the plain
// ATen ops and the eval-mode models they stand in for.
#include <gtest/gtest.h>
#include <torch/torch.h>

#include <string>

#include "models/cv/batch_chunks.h"
#include "models/cv/channel_affine_relu.h"
#include "models/cv/inference_graph.h"
#include "models/registry.h"

using namespace medtrain::models;

namespace {

torch::Tensor reference_affine_relu(const torch::Tensor& x, const torch::Tensor& scale, const torch::Tensor& shift) {
  return torch::relu(x * scale.view({1, -1, 1, 1}) + shift.view({1, -1, 1, 1}));
}

TEST(ChannelAffineRelu, OnAChannelSliceOfAChannelsLastBufferEqualsAtenOps) {
  torch::manual_seed(0);
  const torch::Tensor buffer = torch::randn({3, 40, 5, 7}).contiguous(torch::MemoryFormat::ChannelsLast);
  const torch::Tensor x = buffer.narrow(1, 0, 24);  // strided pixels: 40 floats apart
  const torch::Tensor scale = torch::randn({24});
  const torch::Tensor shift = torch::randn({24});
  const torch::Tensor got = channel_affine_relu(x, scale, shift);
  EXPECT_TRUE(got.is_contiguous(torch::MemoryFormat::ChannelsLast));
  EXPECT_TRUE(torch::allclose(got, reference_affine_relu(x, scale, shift), 1e-6, 1e-6));
  EXPECT_EQ(got.min().item<float>(), 0.0f);  // negatives clipped: ReLU applied
}

TEST(ChannelAffineRelu, OtherLayoutsRunTheSameMathThroughAten) {
  torch::manual_seed(0);
  const torch::Tensor x = torch::randn({2, 6, 4, 4});  // NCHW: channels not contiguous per pixel
  const torch::Tensor scale = torch::randn({6});
  const torch::Tensor shift = torch::randn({6});
  EXPECT_TRUE(torch::allclose(channel_affine_relu(x, scale, shift), reference_affine_relu(x, scale, shift), 1e-6,
                              1e-6));
}

TEST(ForwardInChunks, SplitsLargeBatchesAndKeepsTheirOrder) {
  int calls = 0;
  const torch::Tensor x = torch::arange(2 * kBatchChunk + 1, torch::kFloat).view({-1, 1});
  const torch::Tensor y = forward_in_chunks(x, [&](const at::Tensor& c) {
    ++calls;
    EXPECT_LE(c.size(0), kBatchChunk);
    return c * 2;
  });
  EXPECT_EQ(calls, 3);
  EXPECT_TRUE(torch::equal(y, x * 2));
  calls = 0;
  forward_in_chunks(x.narrow(0, 0, kBatchChunk), [&](const at::Tensor& c) { return ++calls, c; });
  EXPECT_EQ(calls, 1);
}

// A batch of two chunks and a smaller last one through the fused graph equals
// the eval-mode model on the whole batch (1e-5 relative), input untouched.
class ChunkedInferenceGraph : public ::testing::TestWithParam<std::string> {};

TEST_P(ChunkedInferenceGraph, EqualsTheEvalModeModel) {
  const std::string arch = GetParam();
  torch::manual_seed(1);
  auto model = create_model({arch, 3, 1});
  model->eval();
  const torch::Tensor x = torch::randn({2 * kBatchChunk + 1, 1, 32, 32});
  const torch::Tensor before = x.clone();
  torch::Tensor want;
  {
    torch::NoGradGuard no_grad;
    want = model->forward(x);
  }
  const InferenceGraph graph = inference_graph(model, arch, torch::kCPU);
  ASSERT_NE(graph.model, model) << graph.description;
  const torch::Tensor got = graph.model->forward(x);
  ASSERT_EQ(got.sizes(), want.sizes());
  EXPECT_LT((got - want).abs().max().item<double>() / want.abs().max().item<double>(), 1e-5);
  EXPECT_TRUE(torch::equal(x, before)) << "the graph wrote into its input";
}

INSTANTIATE_TEST_SUITE_P(Architectures, ChunkedInferenceGraph, ::testing::Values("resnet18", "densenet121"));

}  // namespace
