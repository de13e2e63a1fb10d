#pragma once
// The pieces of DenseNet, named like torchvision's _DenseLayer, _DenseBlock and
// _Transition so that torchvision state dicts load unchanged:
//   denselayerK.{norm1, conv1, norm2, conv2}     (BN-ReLU-Conv1x1-BN-ReLU-Conv3x3)
//   transitionK.{norm, conv}                     (BN-ReLU-Conv1x1-AvgPool2)
// Shapes: NCHW float; a block maps C channels to C + layers * growth_rate.
#include <torch/nn/module.h>
#include <torch/nn/modules/conv.h>
#include <torch/nn/pimpl.h>

#include <cstdint>
#include <vector>

#include "models/sync_batch_norm.h"

namespace medtrain::models {

class DenseLayerImpl : public torch::nn::Module {
 public:
  DenseLayerImpl(int64_t in_features, int64_t growth_rate, int64_t bn_size);
  // The new `growth_rate` feature maps computed from all earlier ones.
  torch::Tensor forward(const std::vector<torch::Tensor>& features);

 private:
  SyncBatchNorm2d norm1_{nullptr}, norm2_{nullptr};
  torch::nn::Conv2d conv1_{nullptr}, conv2_{nullptr};
};
TORCH_MODULE(DenseLayer);

class DenseBlockImpl : public torch::nn::Module {
 public:
  DenseBlockImpl(int64_t layers, int64_t in_features, int64_t growth_rate, int64_t bn_size);
  torch::Tensor forward(torch::Tensor x);

 private:
  std::vector<DenseLayer> layers_;
};
TORCH_MODULE(DenseBlock);

class TransitionImpl : public torch::nn::Module {
 public:
  TransitionImpl(int64_t in_features, int64_t out_features);
  torch::Tensor forward(torch::Tensor x);

 private:
  SyncBatchNorm2d norm_{nullptr};
  torch::nn::Conv2d conv_{nullptr};
};
TORCH_MODULE(Transition);

}  // namespace medtrain::models
