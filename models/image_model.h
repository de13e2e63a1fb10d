#pragma once
// What the trainer needs of any image model: a Module whose forward maps a
// float batch [N, C, H, W] to logits [N, num_classes] (classification), or
// [N, C, (D,) H, W] to per-pixel logits [N, num_classes, (D,) H, W]
// (segmentation: the U-Nets; ModelInfo::task in models/registry.h says which).
#include <torch/nn/module.h>
#include <torch/types.h>

namespace medtrain::models {

class ImageModel : public torch::nn::Module {
 public:
  virtual torch::Tensor forward(torch::Tensor x) = 0;
  // Lets the model's transformer blocks run medtrain's fused kernels in
  // training (models/fused_module.h); the trainer calls it once, from
  // KernelChoice::transformer. Models without such blocks ignore it.
  virtual void use_fused_kernels(bool /*on*/) {}
};

}  // namespace medtrain::models
