#include "models/cv/fused_classifier.h"

#include <ATen/ATen.h>
#include <c10/core/InferenceMode.h>
#include <torch/nn/modules/linear.h>

#include "models/cv/batch_chunks.h"

namespace medtrain::models {

at::Tensor FusedClassifier::forward(at::Tensor x) {
  c10::InferenceMode guard;
  return forward_in_chunks(x, [this](const at::Tensor& chunk) {
    return at::linear(features(chunk), fc_weight_, fc_bias_);
  });
}

void FusedClassifier::copy_head(const ModuleLookup& m, const std::string& path, const c10::Device& device) {
  const auto& fc = m.get<torch::nn::LinearImpl>(path);
  fc_weight_ = fc.weight.detach().to(device);
  fc_bias_ = fc.bias.detach().to(device);
}

}  // namespace medtrain::models
