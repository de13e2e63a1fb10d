#include "models/cv/unet.h"

#include "models/cv/unet_blocks.h"
#include "models/model_error.h"

namespace medtrain::models {

namespace {

// MONAI BasicUNet's default `features`.
constexpr int64_t kFeatures[6] = {32, 32, 64, 128, 256, 32};

}  // namespace

UNet::UNet(int spatial_dims, int64_t num_classes, int64_t in_channels) : dims_(spatial_dims) {
  const std::string name = "unet" + std::to_string(spatial_dims) + "d";
  if (num_classes < 1) throw ModelError(name + ": num_classes must be >= 1");
  if (in_channels < 1) throw ModelError(name + ": in_channels must be >= 1");
  if (spatial_dims == 2) {
    build<2>(num_classes, in_channels);
  } else if (spatial_dims == 3) {
    build<3>(num_classes, in_channels);
  } else {
    throw ModelError("U-Net: spatial_dims must be 2 or 3, got " + std::to_string(spatial_dims));
  }
}

template <int D>
void UNet::build(int64_t num_classes, int64_t in_channels) {
  const auto* f = kFeatures;
  conv_0_ = register_module("conv_0", std::make_shared<TwoConvImpl<D>>(in_channels, f[0]));
  down_1_ = register_module("down_1", std::make_shared<DownImpl<D>>(f[0], f[1]));
  down_2_ = register_module("down_2", std::make_shared<DownImpl<D>>(f[1], f[2]));
  down_3_ = register_module("down_3", std::make_shared<DownImpl<D>>(f[2], f[3]));
  down_4_ = register_module("down_4", std::make_shared<DownImpl<D>>(f[3], f[4]));
  upcat_4_ = register_module("upcat_4", std::make_shared<UpCatImpl<D>>(f[4], f[3], f[3], true));
  upcat_3_ = register_module("upcat_3", std::make_shared<UpCatImpl<D>>(f[3], f[2], f[2], true));
  upcat_2_ = register_module("upcat_2", std::make_shared<UpCatImpl<D>>(f[2], f[1], f[1], true));
  upcat_1_ = register_module("upcat_1", std::make_shared<UpCatImpl<D>>(f[1], f[0], f[5], false));
  if constexpr (D == 2) {
    final_conv_ = register_module("final_conv", torch::nn::Conv2d(f[5], num_classes, 1).ptr());
  } else {
    final_conv_ = register_module("final_conv", torch::nn::Conv3d(f[5], num_classes, 1).ptr());
  }
}

template <int D>
torch::Tensor UNet::run(const torch::Tensor& x) {
  auto as_two = [](const std::shared_ptr<torch::nn::Module>& m) { return std::static_pointer_cast<TwoConvImpl<D>>(m); };
  auto as_down = [](const std::shared_ptr<torch::nn::Module>& m) { return std::static_pointer_cast<DownImpl<D>>(m); };
  auto as_up = [](const std::shared_ptr<torch::nn::Module>& m) { return std::static_pointer_cast<UpCatImpl<D>>(m); };
  const torch::Tensor x0 = as_two(conv_0_)->forward(x);
  const torch::Tensor x1 = as_down(down_1_)->forward(x0);
  const torch::Tensor x2 = as_down(down_2_)->forward(x1);
  const torch::Tensor x3 = as_down(down_3_)->forward(x2);
  const torch::Tensor x4 = as_down(down_4_)->forward(x3);
  torch::Tensor u = as_up(upcat_4_)->forward(x4, x3);
  u = as_up(upcat_3_)->forward(u, x2);
  u = as_up(upcat_2_)->forward(u, x1);
  u = as_up(upcat_1_)->forward(u, x0);
  if constexpr (D == 2) {
    return std::static_pointer_cast<torch::nn::Conv2dImpl>(final_conv_)->forward(u);
  } else {
    return std::static_pointer_cast<torch::nn::Conv3dImpl>(final_conv_)->forward(u);
  }
}

torch::Tensor UNet::forward(torch::Tensor x) {
  if (x.dim() != dims_ + 2) {
    throw ModelError("unet" + std::to_string(dims_) + "d: expected a " + std::to_string(dims_ + 2) +
                     "-D input [N, C, " + (dims_ == 2 ? "H, W" : "D, H, W") + "], got " +
                     std::to_string(x.dim()) + "-D");
  }
  return dims_ == 2 ? run<2>(x) : run<3>(x);
}

}  // namespace medtrain::models
