#pragma once
// A CNN classifier cut at its Grad-CAM target layer (models/cv/saliency.h):
// LibTorch C++ modules have no forward hooks, so a model that can be
// explained says where its feature maps end and its head begins.
//   forward(x) == forward_head(forward_features(x))
#include <torch/types.h>

namespace medtrain::models {

class CamSplit {
 public:
  virtual ~CamSplit() = default;
  // The target layer's activations [N, C', *spatial'] (grad_cam_layer() names it).
  virtual torch::Tensor forward_features(torch::Tensor x) = 0;
  // The logits [N, classes] from those activations: pooling and classifier.
  virtual torch::Tensor forward_head(torch::Tensor features) = 0;
};

}  // namespace medtrain::models
