#pragma once
// ResNet-18/34/50/101 (He et al. 2016, torchvision's "v1.5": stride on the 3x3
// conv of a bottleneck). Parameter and buffer names and their order match
// torchvision.models.resnet*, so its state dicts load unchanged:
//   conv1.weight, bn1.*, layer1.0.conv1.weight, ..., layer2.0.downsample.0.weight, fc.*
// in_channels != 3 gives a conv1 for single-channel medical images.
#include <cstdint>
#include <string>
#include <vector>

#include "models/cv/cam_split.h"
#include "models/image_model.h"
#include "models/sync_batch_norm.h"

namespace medtrain::models {

struct ResNetSpec {
  std::string name;             // resnet18 | resnet34 | resnet50 | resnet101
  bool bottleneck = false;
  std::vector<int64_t> blocks;  // blocks per stage
};

const ResNetSpec& resnet_spec(const std::string& name);  // ModelError if unknown

class ResNet : public ImageModel, public CamSplit {
 public:
  ResNet(const ResNetSpec& spec, int64_t num_classes, int64_t in_channels);
  torch::Tensor forward(torch::Tensor x) override;
  torch::Tensor forward_features(torch::Tensor x) override;
  torch::Tensor forward_head(torch::Tensor features) override;

 private:
  torch::nn::Sequential make_stage(int64_t planes, int64_t blocks, int64_t stride);
  void init_weights();

  bool bottleneck_;
  int64_t inplanes_ = 64;
  torch::nn::Conv2d conv1_{nullptr};
  SyncBatchNorm2d bn1_{nullptr};
  torch::nn::Sequential layer1_{nullptr}, layer2_{nullptr}, layer3_{nullptr}, layer4_{nullptr};
  torch::nn::Linear fc_{nullptr};
};

}  // namespace medtrain::models
