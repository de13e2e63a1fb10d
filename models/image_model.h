#pragma once
// What the trainer needs of any image model: a Module whose forward maps a
// float batch [N, C, H, W] to logits [N, num_classes].
#include <torch/nn/module.h>
#include <torch/types.h>

namespace medtrain::models {

class ImageModel : public torch::nn::Module {
 public:
  virtual torch::Tensor forward(torch::Tensor x) = 0;
};

}  // namespace medtrain::models
