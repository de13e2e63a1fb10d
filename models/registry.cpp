#include "models/registry.h"

#include "models/cv/resnet.h"
#include "models/model_error.h"

namespace medtrain::models {

const std::vector<ModelInfo>& model_zoo() {
  static const std::vector<ModelInfo> kZoo = [] {
    std::vector<ModelInfo> zoo;
    for (const char* name : {"resnet18", "resnet34", "resnet50", "resnet101"}) {
      zoo.push_back({name, "ResNet", "classification", "[N, C, H, W] float32, H, W >= 32",
                     std::string("torchvision.models.") + name + " state_dict"});
    }
    return zoo;
  }();
  return kZoo;
}

std::shared_ptr<ImageModel> create_model(const ModelRequest& request) {
  for (const auto& info : model_zoo()) {
    if (info.name != request.name) continue;
    if (info.family == "ResNet") {
      return std::make_shared<ResNet>(resnet_spec(request.name), request.num_classes,
                                      request.in_channels);
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
