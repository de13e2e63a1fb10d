#include "models/cv/densenet_blocks.h"

#include <torch/nn/functional/activation.h>
#include <torch/nn/functional/pooling.h>

#include <string>

namespace medtrain::models {

namespace F = torch::nn::functional;

namespace {

torch::nn::Conv2d conv_no_bias(int64_t in, int64_t out, int64_t k) {
  return torch::nn::Conv2d(torch::nn::Conv2dOptions(in, out, k).padding(k / 2).bias(false));
}

}  // namespace

DenseLayerImpl::DenseLayerImpl(int64_t in_features, int64_t growth_rate, int64_t bn_size) {
  norm1_ = register_module("norm1", SyncBatchNorm2d(in_features));
  conv1_ = register_module("conv1", conv_no_bias(in_features, bn_size * growth_rate, 1));
  norm2_ = register_module("norm2", SyncBatchNorm2d(bn_size * growth_rate));
  conv2_ = register_module("conv2", conv_no_bias(bn_size * growth_rate, growth_rate, 3));
}

torch::Tensor DenseLayerImpl::forward(const std::vector<torch::Tensor>& features) {
  // In-place ReLU is safe on a fresh BatchNorm output (its backward does not
  // read its output) and saves one feature map per layer, as torchvision does.
  auto relu = F::ReLUFuncOptions().inplace(true);
  torch::Tensor x = conv1_(F::relu(norm1_(torch::cat(features, 1)), relu));
  return conv2_(F::relu(norm2_(x), relu));
}

DenseBlockImpl::DenseBlockImpl(int64_t layers, int64_t in_features, int64_t growth_rate,
                               int64_t bn_size) {
  for (int64_t i = 0; i < layers; ++i) {
    layers_.push_back(register_module("denselayer" + std::to_string(i + 1),
                                      DenseLayer(in_features + i * growth_rate, growth_rate, bn_size)));
  }
}

torch::Tensor DenseBlockImpl::forward(torch::Tensor x) {
  std::vector<torch::Tensor> features{std::move(x)};
  features.reserve(layers_.size() + 1);
  for (auto& layer : layers_) features.push_back(layer->forward(features));
  return torch::cat(features, 1);
}

TransitionImpl::TransitionImpl(int64_t in_features, int64_t out_features) {
  norm_ = register_module("norm", SyncBatchNorm2d(in_features));
  conv_ = register_module("conv", conv_no_bias(in_features, out_features, 1));
}

torch::Tensor TransitionImpl::forward(torch::Tensor x) {
  x = conv_(F::relu(norm_(x), F::ReLUFuncOptions().inplace(true)));
  return F::avg_pool2d(x, F::AvgPool2dFuncOptions(2).stride(2));
}

}  // namespace medtrain::models
