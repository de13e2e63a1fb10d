#include "models/cv/fused_resnet.h"

#include <ATen/ATen.h>
#include <c10/core/InferenceMode.h>

#include <optional>
#include <string>
#include <vector>

#include "models/cv/fused_classifier.h"
#include "models/cv/fused_conv.h"
#include "models/cv/module_lookup.h"

namespace medtrain::models {

namespace {

// One BasicBlock (two convolutions) or Bottleneck (three).
struct Block {
  std::vector<FusedConv2d> convs;
  std::optional<FusedConv2d> downsample;

  at::Tensor forward(at::Tensor x) const {
    at::Tensor identity = downsample ? (*downsample)(x, Epilogue::kNone) : x;
    at::Tensor y = x;
    for (size_t i = 0; i + 1 < convs.size(); ++i) y = convs[i](y, Epilogue::kRelu);
    // The block input is dead after its first convolution, so the residual
    // sum may accumulate into it.
    return convs.back().add_relu(y, std::move(identity));
  }
};

class FusedResNet : public FusedClassifier {
 public:
  FusedResNet(const ImageModel& resnet, const c10::Device& device) {
    c10::InferenceMode guard;
    const ModuleLookup m(resnet);
    const bool bottleneck = m.has("layer1.0.conv3");
    stem_.emplace(folded_conv(m, "conv1", "bn1", device));
    for (int layer = 1; layer <= 4; ++layer) {
      for (int i = 0;; ++i) {
        const std::string p = "layer" + std::to_string(layer) + "." + std::to_string(i) + ".";
        if (!m.has(p + "conv1")) break;
        Block b;
        for (int k = 1; k <= (bottleneck ? 3 : 2); ++k) {
          const std::string n = std::to_string(k);
          b.convs.push_back(folded_conv(m, p + "conv" + n, p + "bn" + n, device));
        }
        if (m.has(p + "downsample")) {
          b.downsample.emplace(folded_conv(m, p + "downsample.0", p + "downsample.1", device));
        }
        blocks_.push_back(std::move(b));
      }
    }
    copy_head(m, "fc", device);
  }

  at::Tensor features(const at::Tensor& input) const override {
    at::Tensor x = (*stem_)(input.contiguous(at::MemoryFormat::ChannelsLast), Epilogue::kRelu);
    x = at::max_pool2d(x, {3, 3}, {2, 2}, {1, 1});
    for (const auto& b : blocks_) x = b.forward(std::move(x));
    return at::adaptive_avg_pool2d(x, {1, 1}).flatten(1);
  }

 private:
  std::optional<FusedConv2d> stem_;
  std::vector<Block> blocks_;
};

}  // namespace

std::shared_ptr<ImageModel> fused_resnet(const ImageModel& resnet, const c10::Device& device) {
  return std::make_shared<FusedResNet>(resnet, device);
}

}  // namespace medtrain::models
