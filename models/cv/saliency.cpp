// Grad-CAM as monai.visualize.GradCAM (class_activation_maps.py, MONAI 1.6.1):
// compute_map, then default_upsampler; the normaliser here is 1 minus MONAI's
// default_normalizer (which maps max -> 0), so that 1 = most important.
#include "models/cv/saliency.h"

#include <c10/core/InferenceMode.h>
#include <torch/autograd.h>
#include <torch/nn/functional/activation.h>
#include <torch/nn/functional/upsampling.h>

#include <map>
#include <stdexcept>
#include <vector>

#include "models/cv/cam_split.h"
#include "models/cv/convnext.h"
#include "models/cv/densenet.h"
#include "models/cv/efficientnet.h"
#include "models/cv/resnet.h"
#include "models/cv/saliency_common.h"
#include "models/registry.h"

namespace medtrain::models::cv {

namespace F = torch::nn::functional;

namespace {

// The target layer of each CNN classifier family of the zoo.
const std::map<std::string, std::string>& family_layers() {
  static const std::map<std::string, std::string> kLayers = {
      {"ResNet", "layer4"},
      {"DenseNet", "features.norm5"},  // after the ReLU of DenseNet's forward, as MONAI's "class_layers.relu"
      {"EfficientNet", "features"},
      {"ConvNeXt", "features"},
  };
  return kLayers;
}

std::string cnn_classifiers() {
  std::string names;
  for (const auto& info : model_zoo()) {
    if (info.task == "classification" && family_layers().count(info.family)) {
      names += (names.empty() ? "" : ", ") + info.name;
    }
  }
  return names;
}

// Whether `model` is of the family `architecture` belongs to: the target
// layer is chosen by name, so a model of another family would be explained
// at the wrong place without a word.
bool is_family(ImageModel& model, const std::string& architecture) {
  for (const auto& info : model_zoo()) {
    if (info.name != architecture) continue;
    if (info.family == "ResNet") return dynamic_cast<ResNet*>(&model) != nullptr;
    if (info.family == "DenseNet") return dynamic_cast<DenseNet*>(&model) != nullptr;
    if (info.family == "EfficientNet") return dynamic_cast<EfficientNet*>(&model) != nullptr;
    if (info.family == "ConvNeXt") return dynamic_cast<ConvNeXt*>(&model) != nullptr;
  }
  return false;
}

// MONAI's default_upsampler: (bi/tri)linear to the input size, align_corners false.
torch::Tensor upsample_to(const torch::Tensor& map, const torch::Tensor& x) {
  const std::vector<int64_t> size(x.sizes().begin() + 2, x.sizes().end());
  F::InterpolateFuncOptions options;
  options.size(size).align_corners(false);
  if (size.size() == 1) options.mode(torch::kLinear);
  if (size.size() == 2) options.mode(torch::kBilinear);
  if (size.size() == 3) options.mode(torch::kTrilinear);
  return F::interpolate(map, options);
}

}  // namespace

std::string grad_cam_layer(const std::string& architecture) {
  for (const auto& info : model_zoo()) {
    if (info.name != architecture) continue;
    auto it = family_layers().find(info.family);
    if (info.task == "classification" && it != family_layers().end()) return it->second;
    if (info.task == "segmentation") {
      throw std::invalid_argument("Grad-CAM: '" + architecture + "' is a segmentation " + info.family +
                                  ", not a classifier: it has no class score to explain (CNN classifiers: " +
                                  cnn_classifiers() + ")");
    }
  }
  throw std::invalid_argument("Grad-CAM: '" + architecture +
                              "' has no convolution layer to explain (CNN classifiers: " + cnn_classifiers() + ")");
}

torch::Tensor grad_cam(ImageModel& model, const std::string& architecture, const torch::Tensor& x,
                       std::optional<int64_t> class_index) {
  const std::string layer = grad_cam_layer(architecture);
  auto* split = dynamic_cast<CamSplit*>(&model);
  if (split == nullptr || !is_family(model, architecture)) {
    throw std::invalid_argument("Grad-CAM: the model given is not an unfused '" + architecture +
                                "' that can be cut at " + layer);
  }
  if (c10::InferenceMode::is_enabled()) throw std::logic_error("Grad-CAM needs gradients: called under InferenceMode");
  check_saliency_input("Grad-CAM", x);
  EvalModeGuard eval(model);
  // The target layer's activations A as a leaf: the gradient is taken with
  // respect to A alone, so the backbone keeps no graph and no parameter's
  // .grad changes.
  torch::Tensor acts;
  {
    torch::NoGradGuard no_grad;
    acts = split->forward_features(x);
  }
  acts = acts.detach().requires_grad_(true);
  torch::Tensor grad;
  {
    torch::AutoGradMode grad_on(true);
    const torch::Tensor logits = split->forward_head(acts);
    const torch::Tensor classes = target_classes("Grad-CAM", logits, class_index);
    const torch::Tensor score = logits.gather(1, classes.unsqueeze(1)).sum();
    grad = torch::autograd::grad({score}, {acts})[0];
  }
  torch::NoGradGuard no_grad;
  std::vector<int64_t> weight_shape(acts.dim(), 1);
  weight_shape[0] = acts.size(0);
  weight_shape[1] = acts.size(1);
  const torch::Tensor weights = grad.flatten(2).mean(2).view(weight_shape);
  const torch::Tensor cam = F::relu((weights * acts.detach()).sum(1, /*keepdim=*/true));
  return scale_per_sample(upsample_to(cam, x));
}

}  // namespace medtrain::models::cv
