#pragma once
// What Grad-CAM and occlusion sensitivity share (models/cv/saliency.h): the
// checks of their input and class index, eval mode for the duration, and the
// per-sample scaling of a map to [0, 1].
#include <torch/nn/module.h>
#include <torch/types.h>

#include <cstdint>
#include <optional>
#include <string>

namespace medtrain::models::cv {

// std::invalid_argument, naming `what`, unless x is a floating batch
// [N >= 1, C, *spatial] with 1 to 3 spatial dimensions.
void check_saliency_input(const std::string& what, const torch::Tensor& x);

// The class per sample [N] (int64): `class_index` for all, or each row's
// argmax. std::invalid_argument when logits are not [N, classes] (not a
// classifier) or the index is out of range.
torch::Tensor target_classes(const std::string& what, const torch::Tensor& logits,
                             std::optional<int64_t> class_index);

// Each sample of m [N, ...] mapped linearly to [0, 1] (min -> 0, max -> 1);
// a constant sample becomes all 0: nothing stands out.
torch::Tensor scale_per_sample(const torch::Tensor& m);

// Puts a module in eval mode and back into training mode, if it was, on exit.
class EvalModeGuard {
 public:
  explicit EvalModeGuard(torch::nn::Module& module) : module_(module), was_training_(module.is_training()) {
    module_.eval();
  }
  ~EvalModeGuard() {
    if (was_training_) module_.train();
  }
  EvalModeGuard(const EvalModeGuard&) = delete;
  EvalModeGuard& operator=(const EvalModeGuard&) = delete;

 private:
  torch::nn::Module& module_;
  bool was_training_;
};

}  // namespace medtrain::models::cv
