#include "models/cv/resnet.h"

#include <torch/nn/functional/activation.h>
#include <torch/nn/functional/pooling.h>
#include <torch/nn/init.h>

#include <map>

#include "models/cv/resnet_blocks.h"
#include "models/model_error.h"

namespace medtrain::models {

namespace F = torch::nn::functional;

const ResNetSpec& resnet_spec(const std::string& name) {
  static const std::map<std::string, ResNetSpec> kSpecs = {
      {"resnet18", {"resnet18", false, {2, 2, 2, 2}}},
      {"resnet34", {"resnet34", false, {3, 4, 6, 3}}},
      {"resnet50", {"resnet50", true, {3, 4, 6, 3}}},
      {"resnet101", {"resnet101", true, {3, 4, 23, 3}}},
  };
  auto it = kSpecs.find(name);
  if (it == kSpecs.end()) throw ModelError("unknown ResNet variant '" + name + "'");
  return it->second;
}

ResNet::ResNet(const ResNetSpec& spec, int64_t num_classes, int64_t in_channels)
    : bottleneck_(spec.bottleneck) {
  if (num_classes < 1) throw ModelError(spec.name + ": num_classes must be >= 1");
  if (in_channels < 1) throw ModelError(spec.name + ": in_channels must be >= 1");
  conv1_ = register_module("conv1", resnet_conv(in_channels, 64, 7, 2));
  bn1_ = register_module("bn1", SyncBatchNorm2d(64));
  layer1_ = register_module("layer1", make_stage(64, spec.blocks[0], 1));
  layer2_ = register_module("layer2", make_stage(128, spec.blocks[1], 2));
  layer3_ = register_module("layer3", make_stage(256, spec.blocks[2], 2));
  layer4_ = register_module("layer4", make_stage(512, spec.blocks[3], 2));
  int64_t expansion = bottleneck_ ? BottleneckImpl::kExpansion : BasicBlockImpl::kExpansion;
  fc_ = register_module("fc", torch::nn::Linear(512 * expansion, num_classes));
  init_weights();
}

torch::nn::Sequential ResNet::make_stage(int64_t planes, int64_t blocks, int64_t stride) {
  int64_t expansion = bottleneck_ ? BottleneckImpl::kExpansion : BasicBlockImpl::kExpansion;
  torch::nn::Sequential downsample{nullptr};
  if (stride != 1 || inplanes_ != planes * expansion) {
    downsample = torch::nn::Sequential(resnet_conv(inplanes_, planes * expansion, 1, stride),
                                       SyncBatchNorm2d(planes * expansion));
  }
  torch::nn::Sequential stage;
  for (int64_t i = 0; i < blocks; ++i) {
    int64_t s = i == 0 ? stride : 1;
    auto ds = i == 0 ? downsample : torch::nn::Sequential{nullptr};
    if (bottleneck_) {
      stage->push_back(Bottleneck(inplanes_, planes, s, ds));
    } else {
      stage->push_back(BasicBlock(inplanes_, planes, s, ds));
    }
    inplanes_ = planes * expansion;
  }
  return stage;
}

// torchvision's initialisation: He-normal (fan_out) convs, unit BN; the Linear
// keeps LibTorch's default, which is PyTorch's default.
void ResNet::init_weights() {
  torch::NoGradGuard no_grad;
  for (auto& m : modules(/*include_self=*/false)) {
    if (auto* conv = m->as<torch::nn::Conv2d>()) {
      torch::nn::init::kaiming_normal_(conv->weight, 0.0, torch::kFanOut, torch::kReLU);
    } else if (auto* bn = m->as<torch::nn::BatchNorm2d>()) {
      torch::nn::init::ones_(bn->weight);
      torch::nn::init::zeros_(bn->bias);
    }
  }
}

torch::Tensor ResNet::forward(torch::Tensor x) { return forward_head(forward_features(x)); }

// Up to and including layer4 (the Grad-CAM target layer).
torch::Tensor ResNet::forward_features(torch::Tensor x) {
  x = F::relu(bn1_(conv1_(x)), F::ReLUFuncOptions().inplace(true));
  x = F::max_pool2d(x, F::MaxPool2dFuncOptions(3).stride(2).padding(1));
  return layer4_->forward(layer3_->forward(layer2_->forward(layer1_->forward(x))));
}

torch::Tensor ResNet::forward_head(torch::Tensor features) {
  return fc_(F::adaptive_avg_pool2d(features, F::AdaptiveAvgPool2dFuncOptions(1)).flatten(1));
}

}  // namespace medtrain::models
