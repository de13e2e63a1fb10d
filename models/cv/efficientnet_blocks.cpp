#include "models/cv/efficientnet_blocks.h"

#include <torch/nn/functional/activation.h>
#include <torch/nn/functional/pooling.h>
#include <torch/nn/modules/activation.h>

#include <algorithm>

#include "models/cv/stochastic_depth.h"
#include "models/sync_batch_norm.h"

namespace medtrain::models {

namespace F = torch::nn::functional;

Chain conv_bn_act(int64_t in, int64_t out, int64_t kernel, int64_t stride, int64_t groups,
                                  bool silu) {
  Chain seq;
  seq->push_back(torch::nn::Conv2d(
      torch::nn::Conv2dOptions(in, out, kernel).stride(stride).padding((kernel - 1) / 2).groups(groups).bias(false)));
  seq->push_back(SyncBatchNorm2d(out));
  if (silu) seq->push_back(torch::nn::SiLU());
  return seq;
}

SqueezeExcitationImpl::SqueezeExcitationImpl(int64_t channels, int64_t squeeze_channels) {
  fc1_ = register_module("fc1", torch::nn::Conv2d(torch::nn::Conv2dOptions(channels, squeeze_channels, 1)));
  fc2_ = register_module("fc2", torch::nn::Conv2d(torch::nn::Conv2dOptions(squeeze_channels, channels, 1)));
}

torch::Tensor SqueezeExcitationImpl::forward(torch::Tensor x) {
  torch::Tensor scale = F::adaptive_avg_pool2d(x, F::AdaptiveAvgPool2dFuncOptions(1));
  scale = torch::sigmoid(fc2_(F::silu(fc1_(scale))));
  return scale * x;
}

MBConvImpl::MBConvImpl(const MBConvConfig& cfg, double sd_prob)
    : residual_(cfg.stride == 1 && cfg.in_channels == cfg.out_channels), sd_prob_(sd_prob) {
  const int64_t expanded = cfg.in_channels * cfg.expand_ratio;  // B0: width 1.0, already multiples of 8
  Chain block;
  if (expanded != cfg.in_channels) block->push_back(conv_bn_act(cfg.in_channels, expanded, 1, 1, 1, true));
  block->push_back(conv_bn_act(expanded, expanded, cfg.kernel, cfg.stride, expanded, true));  // depthwise
  // torchvision squeezes to a quarter of the block's input channels, not of the expanded ones.
  block->push_back(SqueezeExcitation(expanded, std::max<int64_t>(1, cfg.in_channels / 4)));
  block->push_back(conv_bn_act(expanded, cfg.out_channels, 1, 1, 1, false));
  block_ = register_module("block", block);
}

torch::Tensor MBConvImpl::forward(torch::Tensor x) {
  torch::Tensor out = block_->forward(x);
  if (!residual_) return out;
  return stochastic_depth(out, sd_prob_, is_training()) + x;
}

}  // namespace medtrain::models
