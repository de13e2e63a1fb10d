#pragma once
// The pieces of EfficientNet, named like torchvision's so that its state
// dicts load unchanged:
//   conv_bn_act          torchvision Conv2dNormActivation: Sequential of
//                        0 Conv2d (no bias, padding (k-1)/2), 1 BatchNorm2d, [2 SiLU]
//   SqueezeExcitation    avgpool -> fc1 (1x1 conv) -> SiLU -> fc2 -> sigmoid, times the input
//   MBConv               block.{0: expand 1x1 (if expand_ratio != 1), dw kxk, SE, project 1x1}
//                        + stochastic depth and the residual when shape is kept
// Shapes: NCHW float. BatchNorm keeps PyTorch's defaults (eps 1e-5, momentum
// 0.1), which is what torchvision's B0 uses.
#include <torch/nn/module.h>
#include <torch/nn/modules/conv.h>
#include <torch/nn/pimpl.h>

#include <cstdint>

#include "models/cv/chain.h"

namespace medtrain::models {

// Conv2d(in, out, k, stride, groups, bias=false) + BatchNorm2d [+ SiLU].
Chain conv_bn_act(int64_t in, int64_t out, int64_t kernel, int64_t stride, int64_t groups,
                                  bool silu);

class SqueezeExcitationImpl : public torch::nn::Module {
 public:
  SqueezeExcitationImpl(int64_t channels, int64_t squeeze_channels);
  torch::Tensor forward(torch::Tensor x);

 private:
  torch::nn::Conv2d fc1_{nullptr}, fc2_{nullptr};
};
TORCH_MODULE(SqueezeExcitation);

struct MBConvConfig {
  int64_t expand_ratio, kernel, stride, in_channels, out_channels, layers;
};

class MBConvImpl : public torch::nn::Module {
 public:
  // `cfg.layers` is ignored here: one block. sd_prob: its stochastic depth.
  MBConvImpl(const MBConvConfig& cfg, double sd_prob);
  torch::Tensor forward(torch::Tensor x);

 private:
  bool residual_;
  double sd_prob_;
  Chain block_{nullptr};
};
TORCH_MODULE(MBConv);

}  // namespace medtrain::models
