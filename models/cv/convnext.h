#pragma once
// ConvNeXt-Tiny (Liu et al. 2022) as torchvision.models.convnext_tiny:
// parameter names and order match, so its state dicts load unchanged:
//   features.0.{0,1}          stem: 4x4/4 conv (with bias) + LayerNorm2d
//   features.{1,3,5,7}.K.*    CNBlock stages of 3, 3, 9, 3 blocks (convnext_blocks.h)
//   features.{2,4,6}.{0,1}    downsampling: LayerNorm2d + 2x2/2 conv
//   classifier.{0,2}          LayerNorm2d, (1: flatten), Linear
// No batch norm: every norm is a LayerNorm (eps 1e-6), so sync_bn does not
// apply. Stochastic depth grows linearly from 0 to 0.1 over the 18 blocks
// (block k: 0.1 * k / 17), layer scale starts at 1e-6, as torchvision's.
// in_channels != 3 gives a stem for single-channel images.
#include <cstdint>
#include <string>

#include "models/cv/chain.h"
#include "models/cv/cam_split.h"
#include "models/image_model.h"

namespace medtrain::models {

class ConvNeXt : public ImageModel, public CamSplit {
 public:
  // name: "convnext_tiny" (the only variant so far), for messages.
  ConvNeXt(const std::string& name, int64_t num_classes, int64_t in_channels);
  torch::Tensor forward(torch::Tensor x) override;
  torch::Tensor forward_features(torch::Tensor x) override;
  torch::Tensor forward_head(torch::Tensor features) override;

 private:
  void init_weights();

  Chain features_{nullptr};
  Chain classifier_{nullptr};
};

}  // namespace medtrain::models
