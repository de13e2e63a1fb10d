#include "models/cv/fused_densenet.h"

#include <ATen/ATen.h>
#include <c10/core/InferenceMode.h>
#include <torch/nn/modules/batchnorm.h>
#include <torch/nn/modules/conv.h>

#include <optional>
#include <string>
#include <vector>

#include "models/cv/fused_classifier.h"
#include "models/cv/fused_conv.h"
#include "models/cv/module_lookup.h"

namespace medtrain::models {

// Note [DenseNet folding]
// A batch norm folds into a convolution only when it is applied to that
// convolution's output with nothing non-linear between them. In DenseNet-BC
// that holds for norm0 (after conv0) and norm2 (after conv1). norm1 and the
// transition's norm come after a concatenation and before a ReLU: each dense
// layer normalizes every earlier feature map with its own statistics, so the
// affine cannot move into the convolutions that produced those maps; it runs
// as one fused multiply-add pass, then ReLU, over the channels it reads.

namespace {

const torch::nn::BatchNorm2dImpl& bn_at(const ModuleLookup& m, const std::string& path) {
  return m.get<torch::nn::BatchNorm2dImpl>(path);
}

FusedConv2d plain_conv(const ModuleLookup& m, const std::string& path, const c10::Device& device) {
  const auto& c = m.get<torch::nn::Conv2dImpl>(path);
  at::Tensor bias = c.bias.defined() ? c.bias : at::zeros({c.weight.size(0)}, c.weight.options());
  return FusedConv2d({c.weight, bias}, conv_geometry(c), device);
}

// relu(x * scale + shift) per channel, into a fresh channels_last tensor.
struct AffineRelu {
  at::Tensor scale, shift;  // [1, C, 1, 1]

  AffineRelu(const torch::nn::BatchNorm2dImpl& bn, const c10::Device& device) {
    ChannelAffine a = batch_norm_affine(bn);
    scale = a.scale.to(device).view({1, -1, 1, 1});
    shift = a.shift.to(device).view({1, -1, 1, 1});
  }
  at::Tensor operator()(const at::Tensor& x) const {
    at::Tensor out = at::empty(x.sizes(), x.options().memory_format(at::MemoryFormat::ChannelsLast));
    return at::addcmul_out(out, shift, x, scale).relu_();
  }
};

struct DenseLayer {
  AffineRelu norm1;
  FusedConv2d conv1;  // norm2 folded in, ReLU fused
  FusedConv2d conv2;
};

struct DenseBlock {
  std::vector<DenseLayer> layers;
  int64_t growth = 0;

  // Layer k reads channels [0, c0 + k * growth) of the block's buffer and
  // writes the next `growth`: the buffer ends as torch.cat of all features.
  at::Tensor forward(const at::Tensor& x) const {
    const int64_t c0 = x.size(1);
    const int64_t total = c0 + growth * static_cast<int64_t>(layers.size());
    at::Tensor buffer = at::empty({x.size(0), total, x.size(2), x.size(3)},
                                  x.options().memory_format(at::MemoryFormat::ChannelsLast));
    buffer.narrow(1, 0, c0).copy_(x);
    int64_t c = c0;
    for (const auto& l : layers) {
      at::Tensor y = l.conv2(l.conv1(l.norm1(buffer.narrow(1, 0, c)), Epilogue::kRelu), Epilogue::kNone);
      buffer.narrow(1, c, growth).copy_(y);
      c += growth;
    }
    return buffer;
  }
};

struct Transition {
  AffineRelu norm;
  FusedConv2d conv;

  at::Tensor forward(const at::Tensor& x) const {
    // conv1x1(avg_pool(z)) == avg_pool(conv1x1(z)): both are linear per pixel.
    return conv(at::avg_pool2d(norm(x), {2, 2}, {2, 2}), Epilogue::kNone);
  }
};

class FusedDenseNet : public FusedClassifier {
 public:
  FusedDenseNet(const ImageModel& densenet, const c10::Device& device) {
    c10::InferenceMode guard;
    const ModuleLookup m(densenet);
    stem_.emplace(folded_conv(m, "features.conv0", "features.norm0", device));
    for (int k = 1; m.has("features.denseblock" + std::to_string(k)); ++k) {
      const std::string p = "features.denseblock" + std::to_string(k) + ".denselayer";
      DenseBlock block;
      for (int i = 1; m.has(p + std::to_string(i)); ++i) {
        const std::string l = p + std::to_string(i) + ".";
        block.layers.push_back({AffineRelu(bn_at(m, l + "norm1"), device),
                                folded_conv(m, l + "conv1", l + "norm2", device), plain_conv(m, l + "conv2", device)});
        block.growth = m.get<torch::nn::Conv2dImpl>(l + "conv2").weight.size(0);
      }
      blocks_.push_back(std::move(block));
      const std::string t = "features.transition" + std::to_string(k);
      if (m.has(t)) {
        transitions_.push_back({AffineRelu(bn_at(m, t + ".norm"), device), plain_conv(m, t + ".conv", device)});
      }
    }
    norm5_.emplace(bn_at(m, "features.norm5"), device);
    copy_head(m, "classifier", device);
  }

  at::Tensor features(const at::Tensor& input) const override {
    at::Tensor x = (*stem_)(input.contiguous(at::MemoryFormat::ChannelsLast), Epilogue::kRelu);
    x = at::max_pool2d(x, {3, 3}, {2, 2}, {1, 1});
    for (size_t i = 0; i < blocks_.size(); ++i) {
      x = blocks_[i].forward(x);
      if (i < transitions_.size()) x = transitions_[i].forward(x);
    }
    return at::adaptive_avg_pool2d((*norm5_)(x), {1, 1}).flatten(1);
  }

 private:
  std::optional<FusedConv2d> stem_;
  std::vector<DenseBlock> blocks_;
  std::vector<Transition> transitions_;
  std::optional<AffineRelu> norm5_;
};

}  // namespace

std::shared_ptr<ImageModel> fused_densenet(const ImageModel& densenet, const c10::Device& device) {
  return std::make_shared<FusedDenseNet>(densenet, device);
}

}  // namespace medtrain::models
