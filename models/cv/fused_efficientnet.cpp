#include "models/cv/fused_efficientnet.h"

#include <ATen/ATen.h>
#include <c10/core/InferenceMode.h>
#include <torch/nn/modules/conv.h>

#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "models/cv/fused_classifier.h"
#include "models/cv/fused_conv.h"
#include "models/cv/module_lookup.h"

namespace medtrain::models {

namespace {

// Conv2dNormActivation at `path` (path.0 conv, path.1 batch norm), folded.
FusedConv2d conv_bn(const ModuleLookup& m, const std::string& path, const c10::Device& device) {
  return folded_conv(m, path + ".0", path + ".1", device);
}

// x * sigmoid(fc2(silu(fc1(mean_hw(x))))), in place on x. The 1x1 convs act
// on a [N, C, 1, 1] map, so they run as matrix products on [N, C].
struct SqueezeExcitation {
  at::Tensor w1, b1, w2, b2;  // [squeezed, C], [squeezed], [C, squeezed], [C]

  SqueezeExcitation(const ModuleLookup& m, const std::string& path, const c10::Device& device) {
    const auto& fc1 = m.get<torch::nn::Conv2dImpl>(path + ".fc1");
    const auto& fc2 = m.get<torch::nn::Conv2dImpl>(path + ".fc2");
    w1 = fc1.weight.flatten(1).to(device).contiguous();
    b1 = fc1.bias.to(device);
    w2 = fc2.weight.flatten(1).to(device).contiguous();
    b2 = fc2.bias.to(device);
  }

  // `x` is the depthwise conv's fresh output, owned by the caller's block.
  at::Tensor operator()(at::Tensor x) const {
    // adaptive_avg_pool2d has a channels_last kernel (a mean over dims 2, 3 of
    // an NHWC tensor is a strided reduction).
    at::Tensor s = at::adaptive_avg_pool2d(x, {1, 1}).flatten(1);  // [N, C]
    s = at::linear(s, w1, b1);
    at::silu_(s);
    s = at::linear(s, w2, b2).sigmoid_();
    return x.mul_(s.view({s.size(0), s.size(1), 1, 1}));
  }
};

// MBConv: [expand 1x1] -> depthwise kxk -> squeeze-excitation -> project 1x1 [+ x].
struct Block {
  std::optional<FusedConv2d> expand;
  std::optional<FusedConv2d> depthwise, project;
  std::optional<SqueezeExcitation> se;
  bool residual = false;

  at::Tensor forward(at::Tensor x) const {
    at::Tensor y = expand ? (*expand)(x, Epilogue::kSilu) : x;
    y = (*se)((*depthwise)(y, Epilogue::kSilu));
    // The block input is dead once the expansion (or depthwise) conv has read
    // it, so the residual sum may accumulate into it.
    return residual ? project->add(y, std::move(x)) : (*project)(y, Epilogue::kNone);
  }
};

Block mbconv(const ModuleLookup& m, const std::string& p, const c10::Device& device) {
  Block b;
  // torchvision omits the expansion conv when expand_ratio is 1 (stage 1):
  // block.0 is then the depthwise conv itself.
  const bool expands = m.get<torch::nn::Conv2dImpl>(p + "block.0.0").options.groups() == 1;
  int k = 0;
  if (expands) b.expand.emplace(conv_bn(m, p + "block." + std::to_string(k++), device));
  const std::string dw = p + "block." + std::to_string(k++);
  b.depthwise.emplace(conv_bn(m, dw, device));
  b.se.emplace(m, p + "block." + std::to_string(k++), device);
  const std::string project = p + "block." + std::to_string(k);
  b.project.emplace(conv_bn(m, project, device));
  // The reference adds its input back when the block keeps the shape.
  const auto& dw_conv = m.get<torch::nn::Conv2dImpl>(dw + ".0").options;
  const int64_t in = expands ? m.get<torch::nn::Conv2dImpl>(p + "block.0.0").options.in_channels()
                             : dw_conv.in_channels();
  b.residual = (*dw_conv.stride())[0] == 1 && (*dw_conv.stride())[1] == 1 &&
               in == m.get<torch::nn::Conv2dImpl>(project + ".0").options.out_channels();
  return b;
}

class FusedEfficientNet : public FusedClassifier {
 public:
  FusedEfficientNet(const ImageModel& net, const c10::Device& device) {
    c10::InferenceMode guard;
    const ModuleLookup m(net);
    stem_.emplace(conv_bn(m, "features.0", device));
    int stage = 1;
    for (; m.has("features." + std::to_string(stage) + ".0.block"); ++stage) {
      for (int i = 0;; ++i) {
        const std::string p = "features." + std::to_string(stage) + "." + std::to_string(i) + ".";
        if (!m.has(p + "block")) break;
        blocks_.push_back(mbconv(m, p, device));
      }
    }
    head_.emplace(conv_bn(m, "features." + std::to_string(stage), device));
    copy_head(m, "classifier.1", device);
  }

  // Each image's SE and convolutions are its own: FusedClassifier's batch chunks apply.
  at::Tensor features(const at::Tensor& images) const override {
    at::Tensor x = (*stem_)(images.contiguous(at::MemoryFormat::ChannelsLast), Epilogue::kSilu);
    for (const auto& b : blocks_) x = b.forward(std::move(x));
    x = (*head_)(x, Epilogue::kSilu);
    return at::adaptive_avg_pool2d(x, {1, 1}).flatten(1);
  }

 private:
  std::optional<FusedConv2d> stem_, head_;
  std::vector<Block> blocks_;
};

}  // namespace

std::shared_ptr<ImageModel> fused_efficientnet(const ImageModel& efficientnet, const c10::Device& device) {
  return std::make_shared<FusedEfficientNet>(efficientnet, device);
}

}  // namespace medtrain::models
