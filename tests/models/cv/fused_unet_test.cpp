// The U-Net inference graph (models/cv/fused_unet.h, via inference_graph) computes
// what the eval-mode U-Net computes, 2D and 3D: random weights, InstanceNorm
// affines away from the identity, inputs with a large mean (the statistics
// must not cancel), sizes not divisible by 16 (MONAI's replication padding on
// the way up), 1e-5 relative to the largest logit. The eval-mode U-Net is
// itself tested against MONAI's BasicUNet (tests/models/unet_parity_test.cpp).
#include <gtest/gtest.h>
#include <torch/torch.h>

#include <string>
#include <vector>

#include "models/cv/inference_graph.h"
#include "models/cv/unet_inference_ops.h"
#include "models/model_error.h"
#include "models/registry.h"

using namespace medtrain::models;

namespace {

void randomize_instance_norms(torch::nn::Module& model) {
  torch::NoGradGuard no_grad;
  for (auto& p : model.named_parameters()) {
    if (p.key().find(".adn.N.") == std::string::npos) continue;
    if (p.key().find("weight") != std::string::npos) p.value().uniform_(0.5, 1.5);
    if (p.key().find("bias") != std::string::npos) p.value().uniform_(-0.3, 0.3);
  }
}

double relative_error(const torch::Tensor& got, const torch::Tensor& want) {
  return (got - want).abs().max().item<double>() / want.abs().max().item<double>();
}

void expect_graph_equals_model(const std::string& arch, const std::vector<int64_t>& shape) {
  torch::manual_seed(4);
  auto model = create_model({arch, 3, shape[1]});
  randomize_instance_norms(*model);
  model->eval();
  const InferenceGraph graph = inference_graph(model, arch, torch::kCPU);
  ASSERT_NE(graph.model, model) << graph.description;
  for (int64_t batch : {shape[0], int64_t{1}}) {  // a second batch size re-packs the weights
    std::vector<int64_t> s = shape;
    s[0] = batch;
    const torch::Tensor x = torch::randn(s) * 2 + 5;
    const torch::Tensor before = x.clone();
    torch::Tensor want;
    {
      torch::NoGradGuard no_grad;
      want = model->forward(x);
    }
    const torch::Tensor got = graph.model->forward(x);
    ASSERT_EQ(got.sizes(), want.sizes());
    EXPECT_TRUE(got.is_contiguous());
    EXPECT_LT(relative_error(got, want), 1e-5) << graph.description << " batch " << batch;
    EXPECT_TRUE(torch::equal(x, before)) << "the graph wrote into its input";
  }
}

TEST(FusedUNet, TwoDEqualsTheEvalModeModel) { expect_graph_equals_model("unet2d", {5, 1, 48, 40}); }  // chunks of 2, 2, 1

TEST(FusedUNet, TwoDWithOddSizesPadsAsMonaiDoes) { expect_graph_equals_model("unet2d", {2, 2, 36, 22}); }

TEST(FusedUNet, ThreeDEqualsTheEvalModeModel) { expect_graph_equals_model("unet3d", {2, 1, 32, 24, 18}); }

TEST(FusedUNet, WrongRankIsAModelError) {
  auto model = create_model({"unet2d", 2, 1});
  model->eval();
  const InferenceGraph graph = inference_graph(model, "unet2d", torch::kCPU);
  EXPECT_THROW(graph.model->forward(torch::zeros({1, 1, 4, 16, 16})), ModelError);
}

// The two-pass kernel against ATen's instance_norm + leaky_relu, on a
// channels_last input (the kernel) and a contiguous one (the ATen fallback).
TEST(InstanceNormLeakyRelu, EqualsInstanceNormThenLeakyRelu) {
  torch::manual_seed(5);
  const torch::Tensor gamma = torch::rand({32}) + 0.5, beta = torch::rand({32}) - 0.5;
  for (const auto& shape : {std::vector<int64_t>{2, 32, 33, 17}, std::vector<int64_t>{1, 32, 5, 9, 70}}) {
    const torch::Tensor x = torch::randn(shape) * 3 + 40;  // mean >> std
    const torch::Tensor want = torch::leaky_relu(
        torch::instance_norm(x, gamma, beta, {}, {}, true, 0.0, 1e-5, false), 0.1);
    for (bool channels_last : {true, false}) {
      torch::Tensor y = channels_last ? x.contiguous(channels_last_for(x)) : x.clone();
      instance_norm_leaky_relu_(y, gamma, beta, 1e-5, 0.1);
      EXPECT_LT(relative_error(y, want), 1e-5) << "channels_last " << channels_last << " dims " << x.dim();
    }
  }
}

}  // namespace
