#pragma once
// The pieces of MONAI's BasicUNet (monai.networks.nets.basic_unet), with its
// module names, for 2 or 3 spatial dimensions (D):
//   Convolution   conv (kernel 3, padding 1, bias) + adn.N (InstanceNorm,
//                 affine) + LeakyReLU(0.1); MONAI's ADN order "NDA", dropout 0
//   TwoConv       conv_0, conv_1
//   Down          max pool 2, then convs (TwoConv)
//   UpCat         upsample.deconv (ConvTranspose, kernel 2, stride 2), then
//                 convs (TwoConv) on cat(encoder features, upsampled); the
//                 upsampled map is padded by replication at the far end of a
//                 dimension that an odd encoder size left one short, as MONAI does.
#include <torch/nn/module.h>
#include <torch/nn/pimpl.h>

#include <cstdint>
#include <memory>

namespace medtrain::models {

template <int D>
class UNetConvImpl;  // defined in unet_blocks.cpp for D = 2, 3

// TwoConv; forward maps [N, in, *spatial] to [N, out, *spatial].
template <int D>
class TwoConvImpl : public torch::nn::Module {
 public:
  TwoConvImpl(int64_t in, int64_t out);
  torch::Tensor forward(torch::Tensor x);

 private:
  std::shared_ptr<UNetConvImpl<D>> conv_0_, conv_1_;
};

template <int D>
class DownImpl : public torch::nn::Module {
 public:
  DownImpl(int64_t in, int64_t out);
  torch::Tensor forward(torch::Tensor x);

 private:
  std::shared_ptr<TwoConvImpl<D>> convs_;
};

template <int D>
class UpCatImpl : public torch::nn::Module {
 public:
  // in: channels to upsample; cat: encoder channels; halves: the deconv halves `in`.
  UpCatImpl(int64_t in, int64_t cat, int64_t out, bool halves);
  torch::Tensor forward(torch::Tensor x, const torch::Tensor& encoder);

 private:
  std::shared_ptr<torch::nn::Module> upsample_;
  std::shared_ptr<TwoConvImpl<D>> convs_;
  torch::Tensor upsample(const torch::Tensor& x);
};

}  // namespace medtrain::models
