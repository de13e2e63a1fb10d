#include "models/cv/unet_blocks.h"

#include <torch/nn/functional/activation.h>
#include <torch/nn/functional/padding.h>
#include <torch/nn/functional/pooling.h>
#include <torch/nn/modules/conv.h>
#include <torch/nn/modules/instancenorm.h>

#include <vector>

namespace medtrain::models {

namespace F = torch::nn::functional;

namespace {

template <int D>
struct Layers;

template <>
struct Layers<2> {
  using Conv = torch::nn::Conv2d;
  using ConvOptions = torch::nn::Conv2dOptions;
  using Deconv = torch::nn::ConvTranspose2d;
  using DeconvOptions = torch::nn::ConvTranspose2dOptions;
  using Norm = torch::nn::InstanceNorm2d;
  using NormOptions = torch::nn::InstanceNorm2dOptions;
  static torch::Tensor max_pool(const torch::Tensor& x) { return F::max_pool2d(x, F::MaxPool2dFuncOptions(2)); }
};

template <>
struct Layers<3> {
  using Conv = torch::nn::Conv3d;
  using ConvOptions = torch::nn::Conv3dOptions;
  using Deconv = torch::nn::ConvTranspose3d;
  using DeconvOptions = torch::nn::ConvTranspose3dOptions;
  using Norm = torch::nn::InstanceNorm3d;
  using NormOptions = torch::nn::InstanceNorm3dOptions;
  static torch::Tensor max_pool(const torch::Tensor& x) { return F::max_pool3d(x, F::MaxPool3dFuncOptions(2)); }
};

// MONAI's ADN block: only its norm ("N") has parameters.
template <int D>
class AdnImpl : public torch::nn::Module {
 public:
  explicit AdnImpl(int64_t channels) {
    norm_ = register_module("N", typename Layers<D>::Norm(typename Layers<D>::NormOptions(channels).affine(true)));
  }
  torch::Tensor forward(torch::Tensor x) {
    return F::leaky_relu(norm_(x), F::LeakyReLUFuncOptions().negative_slope(0.1).inplace(true));
  }

 private:
  typename Layers<D>::Norm norm_{nullptr};
};

// MONAI's upsample module of mode "deconv": one child named "deconv".
template <int D>
class DeconvUpImpl : public torch::nn::Module {
 public:
  DeconvUpImpl(int64_t in, int64_t out) {
    deconv_ = register_module("deconv", typename Layers<D>::Deconv(typename Layers<D>::DeconvOptions(in, out, 2).stride(2)));
  }
  torch::Tensor forward(const torch::Tensor& x) { return deconv_(x); }

 private:
  typename Layers<D>::Deconv deconv_{nullptr};
};

}  // namespace

template <int D>
class UNetConvImpl : public torch::nn::Module {
 public:
  UNetConvImpl(int64_t in, int64_t out) {
    conv_ = register_module("conv", typename Layers<D>::Conv(typename Layers<D>::ConvOptions(in, out, 3).padding(1)));
    adn_ = register_module("adn", std::make_shared<AdnImpl<D>>(out));
  }
  torch::Tensor forward(torch::Tensor x) { return adn_->forward(conv_(x)); }

 private:
  typename Layers<D>::Conv conv_{nullptr};
  std::shared_ptr<AdnImpl<D>> adn_;
};

template <int D>
TwoConvImpl<D>::TwoConvImpl(int64_t in, int64_t out) {
  conv_0_ = register_module("conv_0", std::make_shared<UNetConvImpl<D>>(in, out));
  conv_1_ = register_module("conv_1", std::make_shared<UNetConvImpl<D>>(out, out));
}

template <int D>
torch::Tensor TwoConvImpl<D>::forward(torch::Tensor x) {
  return conv_1_->forward(conv_0_->forward(std::move(x)));
}

template <int D>
DownImpl<D>::DownImpl(int64_t in, int64_t out) {
  convs_ = register_module("convs", std::make_shared<TwoConvImpl<D>>(in, out));
}

template <int D>
torch::Tensor DownImpl<D>::forward(torch::Tensor x) {
  return convs_->forward(Layers<D>::max_pool(x));
}

template <int D>
UpCatImpl<D>::UpCatImpl(int64_t in, int64_t cat, int64_t out, bool halves) {
  const int64_t up = halves ? in / 2 : in;
  upsample_ = register_module("upsample", std::make_shared<DeconvUpImpl<D>>(in, up));
  convs_ = register_module("convs", std::make_shared<TwoConvImpl<D>>(cat + up, out));
}

template <int D>
torch::Tensor UpCatImpl<D>::upsample(const torch::Tensor& x) {
  return std::static_pointer_cast<DeconvUpImpl<D>>(upsample_)->forward(x);
}

template <int D>
torch::Tensor UpCatImpl<D>::forward(torch::Tensor x, const torch::Tensor& encoder) {
  torch::Tensor up = upsample(x);
  // F.pad lists (before, after) pairs from the last dimension backwards.
  std::vector<int64_t> pad(2 * D, 0);
  bool any = false;
  for (int i = 0; i < D; ++i) {
    if (encoder.size(-i - 1) != up.size(-i - 1)) {
      pad[2 * i + 1] = 1;
      any = true;
    }
  }
  if (any) up = F::pad(up, F::PadFuncOptions(pad).mode(torch::kReplicate));
  return convs_->forward(torch::cat({encoder, up}, 1));
}

template class TwoConvImpl<2>;
template class TwoConvImpl<3>;
template class DownImpl<2>;
template class DownImpl<3>;
template class UpCatImpl<2>;
template class UpCatImpl<3>;

}  // namespace medtrain::models
