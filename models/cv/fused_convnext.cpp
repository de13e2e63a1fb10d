#include "models/cv/fused_convnext.h"

#include <ATen/ATen.h>
#include <c10/core/InferenceMode.h>
#include <torch/nn/modules/conv.h>
#include <torch/nn/modules/linear.h>
#include <torch/nn/modules/normalization.h>

#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "models/cv/fused_classifier.h"
#include "models/cv/fused_conv.h"
#include "models/cv/fused_linear.h"
#include "models/cv/module_lookup.h"

namespace medtrain::models {

namespace {

FusedConv2d plain_conv(const ModuleLookup& m, const std::string& path, const c10::Device& device) {
  const auto& c = m.get<torch::nn::Conv2dImpl>(path);
  return FusedConv2d({c.weight, c.bias}, conv_geometry(c), device);
}

// A LayerNorm over the channels of a channels_last map: in NHWC memory the
// channels of each pixel are one contiguous row.
struct ChannelNorm {
  at::Tensor weight, bias;
  double eps = 0;

  ChannelNorm(const ModuleLookup& m, const std::string& path, const c10::Device& device) {
    const auto& ln = m.get<torch::nn::LayerNormImpl>(path);
    weight = ln.weight.to(device);
    bias = ln.bias.to(device);
    eps = ln.options.eps();
  }
  // x [N, C, H, W] -> the normalized map as [N, H, W, C] contiguous.
  at::Tensor rows(const at::Tensor& x) const {
    const at::Tensor nhwc = x.contiguous(at::MemoryFormat::ChannelsLast).permute({0, 2, 3, 1});
    return at::layer_norm(nhwc, {weight.size(0)}, weight, bias, eps);
  }
  // x [N, C, H, W] -> normalized, [N, C, H, W] channels_last.
  at::Tensor operator()(const at::Tensor& x) const { return rows(x).permute({0, 3, 1, 2}); }
};

// features.S.K: x + layer_scale * pwconv2(gelu(pwconv1(norm(dwconv(x))))).
struct Block {
  FusedConv2d dwconv;
  ChannelNorm norm;
  FusedLinear pw1, pw2;  // pw2 carries the layer scale

  at::Tensor forward(const at::Tensor& x) const {
    const at::Tensor y = norm.rows(dwconv(x, Epilogue::kNone));  // [N, H, W, C]
    const int64_t c = y.size(3);
    const at::Tensor h = pw1(y.view({-1, c}), /*gelu=*/true);
    const at::Tensor residual = x.permute({0, 2, 3, 1}).reshape({-1, c});  // a view: x is channels_last
    return pw2.add(h, residual).view(y.sizes()).permute({0, 3, 1, 2});
  }
};

Block cnblock(const ModuleLookup& m, const std::string& p, const c10::Device& device) {
  const auto& fc1 = m.get<torch::nn::LinearImpl>(p + "block.3");
  const auto& fc2 = m.get<torch::nn::LinearImpl>(p + "block.5");
  // layer_scale [C, 1, 1] scales fc2's output channel c: fold it into row c.
  const at::Tensor scale = m.get<torch::nn::Module>(p.substr(0, p.size() - 1))
                               .named_parameters(/*recurse=*/false)["layer_scale"]
                               .to(at::kDouble)
                               .flatten();
  const at::Tensor w2 = (fc2.weight.to(at::kDouble) * scale.unsqueeze(1)).to(fc2.weight.scalar_type());
  const at::Tensor b2 = (fc2.bias.to(at::kDouble) * scale).to(fc2.bias.scalar_type());
  return {plain_conv(m, p + "block.0", device), ChannelNorm(m, p + "block.2", device),
          FusedLinear(fc1.weight, fc1.bias, device), FusedLinear(w2, b2, device)};
}

// features.{2,4,6}: LayerNorm2d then a 2x2/2 conv.
struct Downsample {
  ChannelNorm norm;
  FusedConv2d conv;
};

class FusedConvNeXt : public FusedClassifier {
 public:
  FusedConvNeXt(const ImageModel& net, const c10::Device& device) {
    c10::InferenceMode guard;
    const ModuleLookup m(net);
    stem_conv_.emplace(plain_conv(m, "features.0.0", device));
    stem_norm_.emplace(m, "features.0.1", device);
    for (int f = 1; m.has("features." + std::to_string(f)); f += 2) {
      std::vector<Block> stage;
      for (int k = 0; m.has("features." + std::to_string(f) + "." + std::to_string(k)); ++k) {
        stage.push_back(cnblock(m, "features." + std::to_string(f) + "." + std::to_string(k) + ".", device));
      }
      stages_.push_back(std::move(stage));
      const std::string d = "features." + std::to_string(f + 1);
      if (m.has(d)) downsamples_.push_back({ChannelNorm(m, d + ".0", device), plain_conv(m, d + ".1", device)});
    }
    head_norm_.emplace(m, "classifier.0", device);
    copy_head(m, "classifier.2", device);
  }

  at::Tensor features(const at::Tensor& images) const override {
    at::Tensor x = (*stem_norm_)((*stem_conv_)(images.contiguous(at::MemoryFormat::ChannelsLast), Epilogue::kNone));
    for (size_t s = 0; s < stages_.size(); ++s) {
      for (const auto& b : stages_[s]) x = b.forward(x);
      if (s < downsamples_.size()) x = downsamples_[s].conv(downsamples_[s].norm(x), Epilogue::kNone);
    }
    x = at::adaptive_avg_pool2d(x, {1, 1});
    return head_norm_->rows(x).flatten(1);
  }

 private:
  std::optional<FusedConv2d> stem_conv_;
  std::optional<ChannelNorm> stem_norm_, head_norm_;
  std::vector<std::vector<Block>> stages_;
  std::vector<Downsample> downsamples_;
};

}  // namespace

std::shared_ptr<ImageModel> fused_convnext(const ImageModel& convnext, const c10::Device& device) {
  return std::make_shared<FusedConvNeXt>(convnext, device);
}

}  // namespace medtrain::models
