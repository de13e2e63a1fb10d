// The fused graphs' batch chunks (models/cv/batch_chunks.h): the split itself,
// and a batch of several chunks through the graphs against the eval-mode models.
#include <gtest/gtest.h>
#include <torch/torch.h>

#include <string>

#include "models/cv/batch_chunks.h"
#include "models/cv/inference_graph.h"
#include "models/registry.h"

using namespace medtrain::models;

namespace {

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
