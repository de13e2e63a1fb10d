#pragma once
// What the fused classifier graphs share (fused_resnet, fused_densenet,
// fused_efficientnet, fused_convnext): forward under c10::InferenceMode, a
// large CPU batch in chunks (Note [Batch chunks], batch_chunks.h: every layer
// of these networks is per image), and the trained Linear head applied to
// each chunk's pooled features. A subclass builds its layers and copies the
// head in its constructor, and says how a chunk becomes features.
#include <ATen/core/Tensor.h>
#include <c10/core/Device.h>

#include <string>

#include "models/cv/module_lookup.h"
#include "models/image_model.h"

namespace medtrain::models {

class FusedClassifier : public ImageModel {
 public:
  at::Tensor forward(at::Tensor x) final;

 protected:
  // Copies the torch::nn::Linear at `path` (e.g. "fc", "classifier.1").
  void copy_head(const ModuleLookup& m, const std::string& path, const c10::Device& device);

  // [N, C] pooled features of a chunk of images [N, C_in, H, W].
  virtual at::Tensor features(const at::Tensor& images) const = 0;

 private:
  at::Tensor fc_weight_, fc_bias_;
};

}  // namespace medtrain::models
