#pragma once
// The pieces of ConvNeXt, named like torchvision's so that its state dicts
// load unchanged:
//   LayerNorm2d   LayerNorm over the channels of an NCHW map (permute to NHWC,
//                 layer_norm, permute back); weight, bias [C]; eps 1e-6
//   CNBlock       block.{0: 7x7 depthwise conv, 1: permute to NHWC, 2: LayerNorm,
//                 3: Linear C->4C, 4: GELU, 5: Linear 4C->C, 6: permute back},
//                 layer_scale [C, 1, 1]; out = x + drop_path(layer_scale * block(x))
// Shapes: NCHW float in and out.
#include <torch/nn/module.h>
#include <torch/nn/modules/normalization.h>
#include <torch/nn/pimpl.h>

#include <cstdint>

#include "models/cv/chain.h"

namespace medtrain::models {

constexpr double kConvNeXtNormEps = 1e-6;

class LayerNorm2dImpl : public torch::nn::LayerNormImpl {
 public:
  explicit LayerNorm2dImpl(int64_t channels);
  torch::Tensor forward(const torch::Tensor& x);
};
TORCH_MODULE(LayerNorm2d);

class CNBlockImpl : public torch::nn::Module {
 public:
  // layer_scale: the initial value of every layer_scale entry (torchvision: 1e-6).
  CNBlockImpl(int64_t dim, double layer_scale, double sd_prob);
  torch::Tensor forward(torch::Tensor x);

 private:
  double sd_prob_;
  Chain block_{nullptr};
  torch::Tensor layer_scale_;
};
TORCH_MODULE(CNBlock);

}  // namespace medtrain::models
