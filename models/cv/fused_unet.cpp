#include "models/cv/fused_unet.h"

#include <ATen/ATen.h>
#include <c10/core/InferenceMode.h>
#include <torch/nn/modules/conv.h>
#include <torch/nn/modules/instancenorm.h>

#include <array>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "models/cv/module_lookup.h"
#include "models/cv/unet_inference_ops.h"
#include "models/model_error.h"

namespace medtrain::models {

namespace {

constexpr double kLeakySlope = 0.1;  // MONAI BasicUNet's act ("LeakyReLU", 0.1); unet_blocks.cpp
constexpr int64_t kBatchChunk = 2;   // Note [U-Net batch chunks]

template <int D>
struct Modules;

template <>
struct Modules<2> {
  using Conv = torch::nn::Conv2dImpl;
  using Deconv = torch::nn::ConvTranspose2dImpl;
  using Norm = torch::nn::InstanceNorm2dImpl;
};

template <>
struct Modules<3> {
  using Conv = torch::nn::Conv3dImpl;
  using Deconv = torch::nn::ConvTranspose3dImpl;
  using Norm = torch::nn::InstanceNorm3dImpl;
};

// conv (kernel 3, padding 1) + InstanceNorm + LeakyReLU: MONAI's Convolution
// with ADN "NDA" (dropout 0 in eval).
struct ConvNormAct {
  PackedConv conv;
  at::Tensor gamma, beta;
  double eps = 1e-5;

  at::Tensor operator()(const at::Tensor& x) const {
    at::Tensor y = conv(x);
    instance_norm_leaky_relu_(y, gamma, beta, eps, kLeakySlope);
    return y;
  }
};

struct TwoConv {
  std::vector<ConvNormAct> convs;  // conv_0, conv_1

  at::Tensor operator()(at::Tensor x) const {
    for (const auto& c : convs) x = c(x);
    return x;
  }

  // An encoder level: its output is written straight into the first channels
  // of a new channels_last buffer with `extra` more channels, where the
  // decoder later puts the upsampled map: the buffer is torch.cat's result
  // without the copy.
  at::Tensor into_buffer(const at::Tensor& x, int64_t extra) const {
    const ConvNormAct& last = convs.back();
    const at::Tensor z = last.conv(convs.front()(x));
    std::vector<int64_t> sizes = z.sizes().vec();
    sizes[1] += extra;
    at::Tensor buffer = at::empty(sizes, z.options().memory_format(channels_last_for(z)));
    at::Tensor features = buffer.narrow(1, 0, z.size(1));
    instance_norm_leaky_relu_into(z, last.gamma, last.beta, last.eps, kLeakySlope, features);
    return buffer;
  }

  int64_t channels() const { return convs.back().gamma.size(0); }
};

struct UpCat {
  PackedConv deconv;  // kernel 2, stride 2
  TwoConv convs;
  int64_t up_channels = 0;

  // convs(cat(encoder, deconv(x))) where `buffer` holds the encoder's
  // `encoder_channels` features and room for the upsampled ones. The upsampled
  // map is padded by replication at the far end of a dimension that an odd
  // encoder size left one short, as MONAI does.
  at::Tensor operator()(const at::Tensor& x, at::Tensor& buffer, int64_t encoder_channels) const {
    at::Tensor up = deconv(x);
    const int64_t dims = up.dim() - 2;
    std::vector<int64_t> pad(static_cast<size_t>(2 * dims), 0);  // F.pad order: last dimension first
    bool any = false;
    for (int64_t i = 0; i < dims; ++i) {
      if (buffer.size(-i - 1) != up.size(-i - 1)) {
        pad[static_cast<size_t>(2 * i + 1)] = 1;
        any = true;
      }
    }
    if (any) up = at::pad(up, pad, "replicate");
    buffer.narrow(1, encoder_channels, up_channels).copy_(up);
    return convs(buffer);
  }
};

template <int D>
ConvNormAct conv_norm_act(const ModuleLookup& m, const std::string& path, const c10::Device& device) {
  const auto& conv = m.get<typename Modules<D>::Conv>(path + ".conv");
  const auto& norm = m.get<typename Modules<D>::Norm>(path + ".adn.N");
  if (norm.options.track_running_stats()) {
    throw ModelError("inference graph: " + path + ".adn.N keeps running statistics; the U-Net graph expects "
                     "InstanceNorm over each input");
  }
  const int64_t channels = conv.weight.size(0);
  const auto opts = conv.weight.options();
  at::Tensor gamma = norm.options.affine() ? norm.weight.detach() : at::ones({channels}, opts);
  at::Tensor beta = norm.options.affine() ? norm.bias.detach() : at::zeros({channels}, opts);
  return {PackedConv(conv.weight, conv.bias, /*padding=*/1, /*stride=*/1, /*transposed=*/false, device),
          gamma.to(device), beta.to(device), norm.options.eps()};
}

template <int D>
TwoConv two_conv(const ModuleLookup& m, const std::string& path, const c10::Device& device) {
  TwoConv t;
  t.convs.push_back(conv_norm_act<D>(m, path + ".conv_0", device));
  t.convs.push_back(conv_norm_act<D>(m, path + ".conv_1", device));
  return t;
}

class FusedUNet : public ImageModel {
 public:
  FusedUNet(const ImageModel& unet, int dims, const c10::Device& device) : dims_(dims) {
    c10::InferenceMode guard;
    if (dims == 2) {
      build<2>(unet, device);
    } else if (dims == 3) {
      build<3>(unet, device);
    } else {
      throw ModelError("U-Net inference graph: spatial_dims must be 2 or 3, got " + std::to_string(dims));
    }
  }

  at::Tensor forward(at::Tensor x) override {
    if (x.dim() != dims_ + 2) {
      throw ModelError("unet" + std::to_string(dims_) + "d: expected a " + std::to_string(dims_ + 2) +
                       "-D input, got " + std::to_string(x.dim()) + "-D");
    }
    c10::InferenceMode guard;
    if (!x.is_cpu() || x.size(0) <= kBatchChunk) return run(x);
    // Note [U-Net batch chunks]: a level-0 activation is 6.4 MB per 224x224
    // image; at batch 32 every layer streams 200 MB through DRAM and the
    // convolutions run ~30% slower per image than in small batches, whose
    // activations stay in the caches. InstanceNorm is per image, so chunks
    // give the same result. Chunks of 2 measured best on the 2-core VM
    // (batch 32: 17.0 img/s vs 16.2 for 1 and 15.3 for 4; scratch timing).
    std::vector<at::Tensor> outs;
    for (const at::Tensor& chunk : x.split(kBatchChunk)) outs.push_back(run(chunk));
    return at::cat(outs);
  }

 private:
  template <int D>
  void build(const ImageModel& unet, const c10::Device& device) {
    const ModuleLookup m(unet);
    encoder_.push_back(two_conv<D>(m, "conv_0", device));
    for (int k = 1; k <= 4; ++k) encoder_.push_back(two_conv<D>(m, "down_" + std::to_string(k) + ".convs", device));
    for (int k = 4; k >= 1; --k) {
      const std::string p = "upcat_" + std::to_string(k);
      const auto& d = m.get<typename Modules<D>::Deconv>(p + ".upsample.deconv");
      decoder_.push_back({PackedConv(d.weight, d.bias, /*padding=*/0, /*stride=*/2, /*transposed=*/true, device),
                          two_conv<D>(m, p + ".convs", device), d.weight.size(1)});
    }
    const auto& f = m.get<typename Modules<D>::Conv>("final_conv");
    final_.emplace(f.weight, f.bias, /*padding=*/0, /*stride=*/1, /*transposed=*/false, device);
  }

  at::Tensor run(const at::Tensor& x) const {
    std::array<at::Tensor, 4> buffers;  // per level: [x_k of MONAI's forward | upsampled]
    at::Tensor h = x.contiguous(channels_last_for(x));
    for (size_t k = 0; k < buffers.size(); ++k) {
      buffers[k] = encoder_[k].into_buffer(h, decoder_[3 - k].up_channels);
      h = max_pool_2x(buffers[k].narrow(1, 0, encoder_[k].channels()));
    }
    at::Tensor u = encoder_[4](h);
    for (size_t i = 0; i < decoder_.size(); ++i) {
      const size_t k = 3 - i;
      u = decoder_[i](u, buffers[k], encoder_[k].channels());
      buffers[k] = at::Tensor();  // free each level once used
    }
    return (*final_)(u).contiguous();
  }

  int dims_;
  std::vector<TwoConv> encoder_;  // conv_0, down_1 .. down_4
  std::vector<UpCat> decoder_;    // upcat_4 .. upcat_1
  std::optional<PackedConv> final_;
};

}  // namespace

std::shared_ptr<ImageModel> fused_unet(const ImageModel& unet, int spatial_dims, const c10::Device& device) {
  return std::make_shared<FusedUNet>(unet, spatial_dims, device);
}

}  // namespace medtrain::models
