#include "models/registry.h"

#include "models/cv/convnext.h"
#include "models/cv/densenet.h"
#include "models/cv/efficientnet.h"
#include "models/cv/resnet.h"
#include "models/cv/unet.h"
#include "models/model_error.h"

namespace medtrain::models {

namespace {

constexpr const char* kImageInput = "[N, C, H, W] float32, H, W >= 32";
// Every model also loads its own kind of weights from a .pth/.pt state dict, a
// safetensors file or a medtrain checkpoint (model.pretrained); these are the
// public sources whose files load unchanged.
ModelInfo cv_model(const std::string& name, const std::string& family, const std::string& sources) {
  return {name, family, "classification", kImageInput, sources};
}

}  // namespace

const std::vector<ModelInfo>& model_zoo() {
  static const std::vector<ModelInfo> kZoo = {
      cv_model("resnet18", "ResNet", "torchvision resnet18 IMAGENET1K_V1"),
      cv_model("resnet34", "ResNet", "torchvision resnet34 IMAGENET1K_V1"),
      cv_model("resnet50", "ResNet", "torchvision resnet50 IMAGENET1K_V1, IMAGENET1K_V2"),
      cv_model("resnet101", "ResNet", "torchvision resnet101 IMAGENET1K_V1, IMAGENET1K_V2"),
      cv_model("densenet121", "DenseNet", "torchvision densenet121 IMAGENET1K_V1"),
      cv_model("densenet169", "DenseNet", "torchvision densenet169 IMAGENET1K_V1"),
      cv_model("efficientnet_b0", "EfficientNet", "torchvision efficientnet_b0 IMAGENET1K_V1"),
      cv_model("convnext_tiny", "ConvNeXt", "torchvision convnext_tiny IMAGENET1K_V1"),
      {"unet2d", "U-Net", "segmentation", "[N, C, H, W] float32, H, W % 16 == 0",
       "MONAI BasicUNet(spatial_dims=2) state dict"},
      {"unet3d", "U-Net", "segmentation", "[N, C, D, H, W] float32, D, H, W % 16 == 0",
       "MONAI BasicUNet(spatial_dims=3) state dict"},
  };
  return kZoo;
}

std::shared_ptr<ImageModel> create_model(const ModelRequest& request) {
  for (const auto& info : model_zoo()) {
    if (info.name != request.name) continue;
    if (info.family == "ResNet") {
      return std::make_shared<ResNet>(resnet_spec(request.name), request.num_classes,
                                      request.in_channels);
    }
    if (info.family == "U-Net") {
      return std::make_shared<UNet>(request.name == "unet3d" ? 3 : 2, request.num_classes, request.in_channels);
    }
    if (info.family == "DenseNet") {
      return std::make_shared<DenseNet>(densenet_spec(request.name), request.num_classes,
                                        request.in_channels);
    }
    if (info.family == "EfficientNet") {
      return std::make_shared<EfficientNet>(request.name, request.num_classes, request.in_channels);
    }
    if (info.family == "ConvNeXt") {
      return std::make_shared<ConvNeXt>(request.name, request.num_classes, request.in_channels);
    }
  }
  std::string known;
  for (const auto& info : model_zoo()) known += (known.empty() ? "" : ", ") + info.name;
  throw ModelError("unknown model '" + request.name + "' (known: " + known + ")");
}

int64_t parameter_count(const torch::nn::Module& module) {
  int64_t n = 0;
  for (const auto& p : module.parameters()) n += p.numel();
  return n;
}

}  // namespace medtrain::models
