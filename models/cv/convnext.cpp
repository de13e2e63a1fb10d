#include "models/cv/convnext.h"

#include <torch/nn/functional/pooling.h>
#include <torch/nn/init.h>
#include <torch/nn/modules/conv.h>
#include <torch/nn/modules/linear.h>

#include <vector>

#include "models/cv/convnext_blocks.h"
#include "models/model_error.h"

namespace medtrain::models {

namespace F = torch::nn::functional;

namespace {

struct StageSpec {
  int64_t channels, blocks;
};

const std::vector<StageSpec>& tiny_stages() {
  static const std::vector<StageSpec> kStages = {{96, 3}, {192, 3}, {384, 9}, {768, 3}};
  return kStages;
}

constexpr double kStochasticDepth = 0.1;
constexpr double kLayerScale = 1e-6;

}  // namespace

ConvNeXt::ConvNeXt(const std::string& name, int64_t num_classes, int64_t in_channels) {
  if (name != "convnext_tiny") throw ModelError("unknown ConvNeXt variant '" + name + "'");
  if (num_classes < 1) throw ModelError(name + ": num_classes must be >= 1");
  if (in_channels < 1) throw ModelError(name + ": in_channels must be >= 1");
  const auto& stages = tiny_stages();
  int64_t total_blocks = 0;
  for (const auto& s : stages) total_blocks += s.blocks;
  Chain features;
  Chain stem;
  stem->push_back(torch::nn::Conv2d(torch::nn::Conv2dOptions(in_channels, stages[0].channels, 4).stride(4)));
  stem->push_back(LayerNorm2d(stages[0].channels));
  features->push_back(stem);
  int64_t block_id = 0;
  for (size_t i = 0; i < stages.size(); ++i) {
    Chain stage;
    for (int64_t b = 0; b < stages[i].blocks; ++b) {
      // torchvision divides by (total - 1): the last block gets the full probability.
      const double sd = kStochasticDepth * static_cast<double>(block_id++) / (total_blocks - 1.0);
      stage->push_back(CNBlock(stages[i].channels, kLayerScale, sd));
    }
    features->push_back(stage);
    if (i + 1 == stages.size()) break;
    Chain down;
    down->push_back(LayerNorm2d(stages[i].channels));
    down->push_back(torch::nn::Conv2d(torch::nn::Conv2dOptions(stages[i].channels, stages[i + 1].channels, 2).stride(2)));
    features->push_back(down);
  }
  features_ = register_module("features", features);
  const int64_t last = stages.back().channels;
  Chain classifier;
  classifier->push_back(LayerNorm2d(last));
  classifier->push_back(torch::nn::Flatten(torch::nn::FlattenOptions().start_dim(1)));
  classifier->push_back(torch::nn::Linear(last, num_classes));
  classifier_ = register_module("classifier", classifier);
  init_weights();
}

// torchvision's initialisation: convs and Linears truncated normal (std 0.02,
// cut at +-2 absolute, as nn.init.trunc_normal_'s defaults) with zero bias;
// LayerNorms keep unit weight and zero bias.
void ConvNeXt::init_weights() {
  torch::NoGradGuard no_grad;
  auto trunc_normal = [](torch::Tensor& w) {
    // std 0.02 cut at +-2 (100 std): a plain normal, up to resampling that never happens in practice.
    w.normal_(0.0, 0.02).clamp_(-2.0, 2.0);
  };
  for (auto& m : modules(/*include_self=*/false)) {
    if (auto* conv = m->as<torch::nn::Conv2d>()) {
      trunc_normal(conv->weight);
      torch::nn::init::zeros_(conv->bias);
    } else if (auto* linear = m->as<torch::nn::Linear>()) {
      trunc_normal(linear->weight);
      torch::nn::init::zeros_(linear->bias);
    }
  }
}

torch::Tensor ConvNeXt::forward(torch::Tensor x) { return forward_head(forward_features(x)); }

torch::Tensor ConvNeXt::forward_features(torch::Tensor x) { return features_->forward(x); }

torch::Tensor ConvNeXt::forward_head(torch::Tensor features) {
  return classifier_->forward(F::adaptive_avg_pool2d(features, F::AdaptiveAvgPool2dFuncOptions(1)));
}

}  // namespace medtrain::models
