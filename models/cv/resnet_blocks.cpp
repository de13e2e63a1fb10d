#include "models/cv/resnet_blocks.h"

#include <torch/nn/functional/activation.h>

#include <utility>

namespace medtrain::models {

namespace F = torch::nn::functional;

torch::nn::Conv2d resnet_conv(int64_t in, int64_t out, int64_t k, int64_t stride) {
  return torch::nn::Conv2d(
      torch::nn::Conv2dOptions(in, out, k).stride(stride).padding(k / 2).bias(false));
}

BasicBlockImpl::BasicBlockImpl(int64_t inplanes, int64_t planes, int64_t stride,
                               torch::nn::Sequential downsample) {
  conv1_ = register_module("conv1", resnet_conv(inplanes, planes, 3, stride));
  bn1_ = register_module("bn1", SyncBatchNorm2d(planes));
  conv2_ = register_module("conv2", resnet_conv(planes, planes, 3, 1));
  bn2_ = register_module("bn2", SyncBatchNorm2d(planes));
  if (downsample) downsample_ = register_module("downsample", std::move(downsample));
}

torch::Tensor BasicBlockImpl::forward(torch::Tensor x) {
  torch::Tensor identity = downsample_ ? downsample_->forward(x) : x;
  torch::Tensor out = F::relu(bn1_(conv1_(x)), F::ReLUFuncOptions().inplace(true));
  out = bn2_(conv2_(out));
  return F::relu(out + identity, F::ReLUFuncOptions().inplace(true));
}

BottleneckImpl::BottleneckImpl(int64_t inplanes, int64_t planes, int64_t stride,
                               torch::nn::Sequential downsample) {
  conv1_ = register_module("conv1", resnet_conv(inplanes, planes, 1, 1));
  bn1_ = register_module("bn1", SyncBatchNorm2d(planes));
  conv2_ = register_module("conv2", resnet_conv(planes, planes, 3, stride));
  bn2_ = register_module("bn2", SyncBatchNorm2d(planes));
  conv3_ = register_module("conv3", resnet_conv(planes, planes * kExpansion, 1, 1));
  bn3_ = register_module("bn3", SyncBatchNorm2d(planes * kExpansion));
  if (downsample) downsample_ = register_module("downsample", std::move(downsample));
}

torch::Tensor BottleneckImpl::forward(torch::Tensor x) {
  torch::Tensor identity = downsample_ ? downsample_->forward(x) : x;
  auto relu = F::ReLUFuncOptions().inplace(true);
  torch::Tensor out = F::relu(bn1_(conv1_(x)), relu);
  out = F::relu(bn2_(conv2_(out)), relu);
  out = bn3_(conv3_(out));
  return F::relu(out + identity, relu);
}

}  // namespace medtrain::models
