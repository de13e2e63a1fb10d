#pragma once
// DenseNet-121/169 (Huang et al. 2017, DenseNet-BC: bn_size 4, compression 0.5,
// growth rate 32, 64 initial features). Parameter and buffer names and their
// order match torchvision.models.densenet*, so its state dicts load unchanged:
//   features.conv0.weight, features.norm0.*,
//   features.denseblock1.denselayer1.{norm1,conv1,norm2,conv2}.*,
//   features.transition1.{norm,conv}.*, ..., features.norm5.*, classifier.*
// (torchvision's own ImageNet files use the legacy names "norm.1"/"conv.2";
// models/pretrained renames them as torchvision's loader does).
// in_channels != 3 gives a conv0 for single-channel medical images.
#include <torch/nn/modules/container/sequential.h>
#include <torch/nn/modules/linear.h>

#include <cstdint>
#include <string>
#include <vector>

#include "models/cv/cam_split.h"
#include "models/image_model.h"

namespace medtrain::models {

struct DenseNetSpec {
  std::string name;             // densenet121 | densenet169
  std::vector<int64_t> blocks;  // dense layers per block
  int64_t growth_rate = 32;
  int64_t init_features = 64;
  int64_t bn_size = 4;
};

const DenseNetSpec& densenet_spec(const std::string& name);  // ModelError if unknown

class DenseNet : public ImageModel, public CamSplit {
 public:
  DenseNet(const DenseNetSpec& spec, int64_t num_classes, int64_t in_channels);
  torch::Tensor forward(torch::Tensor x) override;
  torch::Tensor forward_features(torch::Tensor x) override;
  torch::Tensor forward_head(torch::Tensor features) override;

 private:
  void init_weights();

  torch::nn::Sequential features_{nullptr};
  torch::nn::Linear classifier_{nullptr};
};

}  // namespace medtrain::models
