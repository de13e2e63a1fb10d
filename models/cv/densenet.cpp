#include "models/cv/densenet.h"

#include <torch/nn/functional/activation.h>
#include <torch/nn/functional/pooling.h>
#include <torch/nn/init.h>
#include <torch/nn/modules/activation.h>
#include <torch/nn/modules/conv.h>
#include <torch/nn/modules/pooling.h>

#include <map>

#include "models/cv/densenet_blocks.h"
#include "models/model_error.h"
#include "models/sync_batch_norm.h"

namespace medtrain::models {

namespace F = torch::nn::functional;

const DenseNetSpec& densenet_spec(const std::string& name) {
  static const std::map<std::string, DenseNetSpec> kSpecs = {
      {"densenet121", {"densenet121", {6, 12, 24, 16}}},
      {"densenet169", {"densenet169", {6, 12, 32, 32}}},
  };
  auto it = kSpecs.find(name);
  if (it == kSpecs.end()) throw ModelError("unknown DenseNet variant '" + name + "'");
  return it->second;
}

DenseNet::DenseNet(const DenseNetSpec& spec, int64_t num_classes, int64_t in_channels) {
  if (num_classes < 1) throw ModelError(spec.name + ": num_classes must be >= 1");
  if (in_channels < 1) throw ModelError(spec.name + ": in_channels must be >= 1");
  torch::nn::Sequential features;
  features->push_back("conv0", torch::nn::Conv2d(torch::nn::Conv2dOptions(in_channels, spec.init_features, 7)
                                                     .stride(2).padding(3).bias(false)));
  features->push_back("norm0", SyncBatchNorm2d(spec.init_features));
  features->push_back("relu0", torch::nn::ReLU(torch::nn::ReLUOptions(true)));
  features->push_back("pool0", torch::nn::MaxPool2d(torch::nn::MaxPool2dOptions(3).stride(2).padding(1)));
  int64_t channels = spec.init_features;
  for (size_t i = 0; i < spec.blocks.size(); ++i) {
    const std::string k = std::to_string(i + 1);
    features->push_back("denseblock" + k, DenseBlock(spec.blocks[i], channels, spec.growth_rate, spec.bn_size));
    channels += spec.blocks[i] * spec.growth_rate;
    if (i + 1 != spec.blocks.size()) {
      features->push_back("transition" + k, Transition(channels, channels / 2));
      channels /= 2;
    }
  }
  features->push_back("norm5", SyncBatchNorm2d(channels));
  features_ = register_module("features", features);
  classifier_ = register_module("classifier", torch::nn::Linear(channels, num_classes));
  init_weights();
}

// torchvision's initialisation: He-normal (fan_in) convs, unit BN, zero Linear bias.
void DenseNet::init_weights() {
  torch::NoGradGuard no_grad;
  for (auto& m : modules(/*include_self=*/false)) {
    if (auto* conv = m->as<torch::nn::Conv2d>()) {
      torch::nn::init::kaiming_normal_(conv->weight);
    } else if (auto* bn = m->as<torch::nn::BatchNorm2d>()) {
      torch::nn::init::ones_(bn->weight);
      torch::nn::init::zeros_(bn->bias);
    } else if (auto* linear = m->as<torch::nn::Linear>()) {
      torch::nn::init::zeros_(linear->bias);
    }
  }
}

torch::Tensor DenseNet::forward(torch::Tensor x) { return forward_head(forward_features(x)); }

// features (ending in norm5) and the ReLU torchvision's forward applies to
// them: the Grad-CAM target, as MONAI's DenseNet121 "class_layers.relu".
torch::Tensor DenseNet::forward_features(torch::Tensor x) {
  return F::relu(features_->forward(x), F::ReLUFuncOptions().inplace(true));
}

torch::Tensor DenseNet::forward_head(torch::Tensor features) {
  return classifier_(F::adaptive_avg_pool2d(features, F::AdaptiveAvgPool2dFuncOptions(1)).flatten(1));
}

}  // namespace medtrain::models
