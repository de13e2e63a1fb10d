#include "models/cv/convnext_blocks.h"

#include <torch/nn/functional/normalization.h>
#include <torch/nn/modules/activation.h>
#include <torch/nn/modules/conv.h>
#include <torch/nn/modules/linear.h>
#include <torch/nn/modules/container/functional.h>

#include <vector>

#include "models/cv/stochastic_depth.h"

namespace medtrain::models {

namespace {

// torchvision's Permute module: no parameters, but it holds an index in
// `block`, so it must be a module to keep the later names right.
torch::nn::Functional permute(std::vector<int64_t> dims) {
  return torch::nn::Functional([dims](const torch::Tensor& x) { return x.permute(dims); });
}

}  // namespace

LayerNorm2dImpl::LayerNorm2dImpl(int64_t channels)
    : torch::nn::LayerNormImpl(torch::nn::LayerNormOptions({channels}).eps(kConvNeXtNormEps)) {}

torch::Tensor LayerNorm2dImpl::forward(const torch::Tensor& x) {
  return torch::nn::LayerNormImpl::forward(x.permute({0, 2, 3, 1})).permute({0, 3, 1, 2});
}

CNBlockImpl::CNBlockImpl(int64_t dim, double layer_scale, double sd_prob) : sd_prob_(sd_prob) {
  Chain block;
  block->push_back(torch::nn::Conv2d(torch::nn::Conv2dOptions(dim, dim, 7).padding(3).groups(dim)));
  block->push_back(permute({0, 2, 3, 1}));
  block->push_back(torch::nn::LayerNorm(torch::nn::LayerNormOptions({dim}).eps(kConvNeXtNormEps)));
  block->push_back(torch::nn::Linear(dim, 4 * dim));
  block->push_back(torch::nn::GELU());
  block->push_back(torch::nn::Linear(4 * dim, dim));
  block->push_back(permute({0, 3, 1, 2}));
  block_ = register_module("block", block);
  layer_scale_ = register_parameter("layer_scale", torch::full({dim, 1, 1}, layer_scale));
}

torch::Tensor CNBlockImpl::forward(torch::Tensor x) {
  return stochastic_depth(layer_scale_ * block_->forward(x), sd_prob_, is_training()) + x;
}

}  // namespace medtrain::models
