#pragma once
// EfficientNet-B0 (Tan & Le 2019) as torchvision.models.efficientnet_b0:
// parameter and buffer names and order match, so its state dicts load
// unchanged:
//   features.0.{0,1}        stem: 3x3/2 conv + BN (+ SiLU)
//   features.1-7.K.block.*  MBConv stages (efficientnet_blocks.h)
//   features.8.{0,1}        1x1 conv to 1280 + BN (+ SiLU)
//   classifier.1            Linear (classifier.0 is the dropout, p 0.2)
// Stochastic depth grows linearly from 0 to 0.2 over the 16 blocks (block k:
// 0.2 * k / 16), as torchvision's. in_channels != 3 gives a stem for
// single-channel images (3-channel weights are summed into it on load:
// models/pretrained/input_adaptation.h).
#include <cstdint>
#include <string>

#include "models/cv/chain.h"
#include "models/cv/cam_split.h"
#include "models/image_model.h"

namespace medtrain::models {

class EfficientNet : public ImageModel, public CamSplit {
 public:
  // name: "efficientnet_b0" (the only variant so far), for messages.
  EfficientNet(const std::string& name, int64_t num_classes, int64_t in_channels);
  torch::Tensor forward(torch::Tensor x) override;
  torch::Tensor forward_features(torch::Tensor x) override;
  torch::Tensor forward_head(torch::Tensor features) override;

 private:
  void init_weights();

  Chain features_{nullptr};
  Chain classifier_{nullptr};
};

}  // namespace medtrain::models
