// The inference graph (models/cv/inference_graph.h) computes what the
// eval-mode model computes: per architecture, random weights and non-trivial
// batch-norm statistics, small inputs, 1e-5 relative to the largest logit.
// The unfolded models are themselves tested against torchvision/MONAI
// (tests/models/*_parity_test.cpp), so this chains to those references.
#include <gtest/gtest.h>
#include <torch/torch.h>

#include <string>

#include "models/cv/fold_batch_norm.h"
#include "models/cv/fused_conv.h"
#include "models/cv/fused_linear.h"
#include "models/cv/inference_graph.h"
#include "models/model_error.h"
#include "models/registry.h"

using namespace medtrain::models;

namespace {

// Statistics far from the identity, so a norm left out or folded wrongly shows;
// ConvNeXt's LayerNorm affines and layer scales (1e-6 at init, which would hide
// its blocks) likewise.
void randomize_batch_norms(torch::nn::Module& model) {
  torch::NoGradGuard no_grad;
  for (auto& m : model.modules(/*include_self=*/false)) {
    if (auto* bn = m->as<torch::nn::BatchNorm2d>()) {
      bn->running_mean.uniform_(-0.5, 0.5);
      bn->running_var.uniform_(0.5, 2.0);
      bn->weight.uniform_(0.5, 1.5);
      bn->bias.uniform_(-0.2, 0.2);
    } else if (auto* ln = m->as<torch::nn::LayerNorm>()) {
      ln->weight.uniform_(0.5, 1.5);
      ln->bias.uniform_(-0.2, 0.2);
    }
  }
  for (auto& p : model.named_parameters()) {
    if (p.key().find("layer_scale") != std::string::npos) p.value().uniform_(0.5, 1.5);
  }
}

double relative_error(const torch::Tensor& got, const torch::Tensor& want) {
  return (got - want).abs().max().item<double>() / want.abs().max().item<double>();
}

struct Case {
  std::string arch;
  int64_t channels, size;
  int64_t batch = 2;  // 9: two chunks of 4 and a smaller last one (batch_chunks.h)
};

class InferenceGraphEquality : public ::testing::TestWithParam<Case> {};

TEST_P(InferenceGraphEquality, EqualsTheEvalModeModel) {
  const Case c = GetParam();
  torch::manual_seed(1);
  auto model = create_model({c.arch, 3, c.channels});
  randomize_batch_norms(*model);
  model->eval();
  const torch::Tensor x = torch::randn({c.batch, c.channels, c.size, c.size});
  const torch::Tensor before = x.clone();
  torch::Tensor want;
  {
    torch::NoGradGuard no_grad;
    want = model->forward(x);
  }
  const InferenceGraph graph = inference_graph(model, c.arch, torch::kCPU);
  ASSERT_NE(graph.model, model) << graph.description;
  const torch::Tensor got = graph.model->forward(x);
  ASSERT_EQ(got.sizes(), want.sizes());
  EXPECT_LT(relative_error(got, want), 1e-5) << graph.description;
  EXPECT_TRUE(torch::equal(x, before)) << "the graph wrote into its input";
  // A second batch of another size runs through the same prepacked weights.
  const torch::Tensor x1 = torch::randn({1, c.channels, c.size, c.size});
  torch::NoGradGuard no_grad;
  EXPECT_LT(relative_error(graph.model->forward(x1), model->forward(x1)), 1e-5);
}

INSTANTIATE_TEST_SUITE_P(Architectures, InferenceGraphEquality,
                         ::testing::Values(Case{"resnet18", 1, 64}, Case{"resnet50", 3, 64},
                                           Case{"densenet121", 1, 64}, Case{"efficientnet_b0", 1, 64},
                                           Case{"efficientnet_b0", 3, 32, 9}, Case{"convnext_tiny", 1, 32, 9}),
                         [](const auto& info) { return info.param.arch + "_c" + std::to_string(info.param.channels); });

// Every zoo CNN has a graph now (the U-Nets: fused_unet_test.cpp); another name runs as it is.
TEST(InferenceGraph, ArchitecturesWithoutAGraphRunAsTrained) {
  auto model = create_model({"unet2d", 2, 1});
  model->eval();
  const InferenceGraph graph = inference_graph(model, "not_a_zoo_architecture", torch::kCPU);
  EXPECT_EQ(graph.model, model);
  EXPECT_NE(graph.description.find("runs as trained"), std::string::npos);
}

// fold_batch_norm against conv2d followed by batch_norm, with a conv bias.
TEST(FoldBatchNorm, EqualsConvolutionThenBatchNorm) {
  torch::manual_seed(2);
  torch::nn::Conv2d conv(torch::nn::Conv2dOptions(4, 6, 3).padding(1).bias(true));
  torch::nn::BatchNorm2d bn(6);
  randomize_batch_norms(*bn);
  bn->eval();
  torch::NoGradGuard no_grad;
  const torch::Tensor x = torch::randn({2, 4, 9, 9});
  const FoldedConv f = fold_batch_norm(conv->weight, conv->bias, *bn);
  const torch::Tensor got = torch::conv2d(x, f.weight, f.bias, 1, 1);
  EXPECT_LT(relative_error(got, bn(conv(x))), 1e-6);
  // The oneDNN path (float, CPU) with a fused ReLU, against the same reference.
  FusedConv2d fused(f, conv_geometry(*conv), torch::kCPU);
  EXPECT_EQ(fused.uses_onednn(), at::hasMKLDNN());  // the pip wheel has oneDNN: this tests that path
  EXPECT_LT(relative_error(fused(x, Epilogue::kRelu), torch::relu(bn(conv(x)))), 1e-6);
  const torch::Tensor r = torch::randn({2, 6, 9, 9});
  EXPECT_LT(relative_error(fused.add_relu(x, r.clone()), torch::relu(bn(conv(x)) + r)), 1e-6);
  // EfficientNet's epilogues: SiLU ("swish"), and the residual add without ReLU.
  EXPECT_LT(relative_error(fused(x, Epilogue::kSilu), torch::silu(bn(conv(x)))), 1e-6);
  EXPECT_LT(relative_error(fused.add(x, r.clone()), bn(conv(x)) + r), 1e-6);
}

// FusedLinear (ConvNeXt's pointwise layers) against torch::linear, with the
// exact GELU and with a residual; a second row count reuses the weights.
TEST(FusedLinear, EqualsLinearThenGeluOrAdd) {
  torch::manual_seed(3);
  const torch::Tensor w = torch::randn({24, 16}), b = torch::randn({24});
  const FusedLinear fused(w, b, torch::kCPU);
  for (int64_t rows : {10, 3}) {
    const torch::Tensor x = torch::randn({rows, 16}), r = torch::randn({rows, 24});
    const torch::Tensor want = torch::linear(x, w, b);
    EXPECT_LT(relative_error(fused(x, /*gelu=*/false), want), 1e-6);
    EXPECT_LT(relative_error(fused(x, /*gelu=*/true), torch::gelu(want)), 1e-6);
    EXPECT_LT(relative_error(fused.add(x, r), want + r), 1e-6);
  }
}

TEST(FoldBatchNorm, ChannelMismatchIsAModelError) {
  torch::nn::BatchNorm2d bn(5);
  const torch::Tensor w = torch::randn({6, 4, 3, 3});
  try {
    fold_batch_norm(w, std::nullopt, *bn);
    FAIL() << "expected ModelError";
  } catch (const ModelError& e) {
    EXPECT_NE(std::string(e.what()).find("5 channels"), std::string::npos) << e.what();
  }
}

TEST(FoldBatchNorm, NormWithoutRunningStatisticsIsAModelError) {
  torch::nn::BatchNorm2d bn(torch::nn::BatchNorm2dOptions(6).track_running_stats(false));
  EXPECT_THROW(fold_batch_norm(torch::randn({6, 4, 1, 1}), std::nullopt, *bn), ModelError);
}

}  // namespace
