#pragma once
// 2D and 3D U-Net: MONAI's BasicUNet (features 32, 32, 64, 128, 256, 32;
// InstanceNorm, LeakyReLU 0.1, transposed-convolution upsampling) with its
// parameter names, so monai.networks.nets.BasicUNet state dicts load unchanged:
//   conv_0.conv_0.conv.weight, conv_0.conv_0.adn.N.weight, down_1.convs.conv_0...,
//   upcat_4.upsample.deconv.weight, upcat_4.convs..., final_conv.weight
// forward: [N, C, H, W] (2D) or [N, C, D, H, W] (3D) float -> per-voxel logits
// [N, num_classes, same spatial size]. Spatial sizes divisible by 16 give
// MONAI's exact shapes; others are padded on the way up, as MONAI does.
#include <torch/nn/modules/conv.h>

#include <cstdint>
#include <memory>
#include <string>

#include "models/image_model.h"

namespace medtrain::models {

class UNet : public ImageModel {
 public:
  UNet(int spatial_dims, int64_t num_classes, int64_t in_channels);
  torch::Tensor forward(torch::Tensor x) override;
  int spatial_dims() const { return dims_; }

 private:
  template <int D>
  void build(int64_t num_classes, int64_t in_channels);
  template <int D>
  torch::Tensor run(const torch::Tensor& x);

  int dims_;
  std::shared_ptr<torch::nn::Module> conv_0_, down_1_, down_2_, down_3_, down_4_;
  std::shared_ptr<torch::nn::Module> upcat_4_, upcat_3_, upcat_2_, upcat_1_;
  std::shared_ptr<torch::nn::Module> final_conv_;
};

}  // namespace medtrain::models
