#include "models/cv/efficientnet.h"

#include <torch/nn/functional/pooling.h>
#include <torch/nn/init.h>
#include <torch/nn/modules/dropout.h>

#include <cmath>
#include <string>
#include <vector>

#include "models/cv/efficientnet_blocks.h"
#include "models/model_error.h"
#include "models/sync_batch_norm.h"

namespace medtrain::models {

namespace F = torch::nn::functional;

namespace {

// torchvision's B0 (width and depth multipliers 1.0):
// expand_ratio, kernel, stride, in, out, layers.
const std::vector<MBConvConfig>& b0_stages() {
  static const std::vector<MBConvConfig> kStages = {
      {1, 3, 1, 32, 16, 1},   {6, 3, 2, 16, 24, 2},  {6, 5, 2, 24, 40, 2},   {6, 3, 2, 40, 80, 3},
      {6, 5, 1, 80, 112, 3},  {6, 5, 2, 112, 192, 4}, {6, 3, 1, 192, 320, 1},
  };
  return kStages;
}

constexpr double kStochasticDepth = 0.2;
constexpr double kDropout = 0.2;
constexpr int64_t kLastChannels = 1280;  // 4 * 320

}  // namespace

EfficientNet::EfficientNet(const std::string& name, int64_t num_classes, int64_t in_channels) {
  if (name != "efficientnet_b0") throw ModelError("unknown EfficientNet variant '" + name + "'");
  if (num_classes < 1) throw ModelError(name + ": num_classes must be >= 1");
  if (in_channels < 1) throw ModelError(name + ": in_channels must be >= 1");
  const auto& stages = b0_stages();
  int64_t total_blocks = 0;
  for (const auto& s : stages) total_blocks += s.layers;
  Chain features;
  features->push_back(conv_bn_act(in_channels, stages.front().in_channels, 3, 2, 1, true));
  int64_t block_id = 0;
  for (const auto& s : stages) {
    Chain stage;
    for (int64_t i = 0; i < s.layers; ++i) {
      MBConvConfig cfg = s;
      if (i > 0) {
        cfg.in_channels = s.out_channels;
        cfg.stride = 1;
      }
      stage->push_back(MBConv(cfg, kStochasticDepth * static_cast<double>(block_id++) / total_blocks));
    }
    features->push_back(stage);
  }
  features->push_back(conv_bn_act(stages.back().out_channels, kLastChannels, 1, 1, 1, true));
  features_ = register_module("features", features);
  Chain classifier;
  classifier->push_back(torch::nn::Dropout(torch::nn::DropoutOptions(kDropout)));
  classifier->push_back(torch::nn::Linear(kLastChannels, num_classes));
  classifier_ = register_module("classifier", classifier);
  init_weights();
}

// torchvision's initialisation: He-normal (fan_out) convs with zero bias, unit
// BN, Linear uniform in +-1/sqrt(num_classes) with zero bias.
void EfficientNet::init_weights() {
  torch::NoGradGuard no_grad;
  for (auto& m : modules(/*include_self=*/false)) {
    if (auto* conv = m->as<torch::nn::Conv2d>()) {
      torch::nn::init::kaiming_normal_(conv->weight, 0.0, torch::kFanOut);
      if (conv->bias.defined()) torch::nn::init::zeros_(conv->bias);
    } else if (auto* bn = m->as<torch::nn::BatchNorm2d>()) {
      torch::nn::init::ones_(bn->weight);
      torch::nn::init::zeros_(bn->bias);
    } else if (auto* linear = m->as<torch::nn::Linear>()) {
      const double range = 1.0 / std::sqrt(static_cast<double>(linear->weight.size(0)));
      torch::nn::init::uniform_(linear->weight, -range, range);
      torch::nn::init::zeros_(linear->bias);
    }
  }
}

torch::Tensor EfficientNet::forward(torch::Tensor x) { return forward_head(forward_features(x)); }

torch::Tensor EfficientNet::forward_features(torch::Tensor x) { return features_->forward(x); }

torch::Tensor EfficientNet::forward_head(torch::Tensor features) {
  return classifier_->forward(F::adaptive_avg_pool2d(features, F::AdaptiveAvgPool2dFuncOptions(1)).flatten(1));
}

}  // namespace medtrain::models
