#pragma once
// kernels.fused + the device -> which fused kernels a run uses, decided once
// and logged once. The fused kernels pay off on CUDA only: on the CPU they
// would run their reference loops, so `kernels.fused: true` without CUDA
// chooses the LibTorch ops and says so (the message), instead of failing a
// config that is the default everywhere.
#include <c10/core/Device.h>

#include <string>

namespace medtrain::models {
class ImageModel;
}  // namespace medtrain::models

namespace medtrain::engine {

struct KernelChoice {
  bool optimizer = false;        // FusedAdamW / FusedSGD (multi-tensor step)
  bool amp_unscale = false;      // GradScaler: one-launch unscale + inf check
  bool cross_entropy = false;    // softmax_cross_entropy for classification losses
  bool preprocess = false;       // loader ships stored values; the device runs preprocess_images
  bool bucket_epilogue = false;  // reducer: bucket_epilogue_ after each bucket's all-reduce
  bool transformer = false;      // layer_norm and bias_gelu in the text and speech encoders
  std::string message;           // one line for the run log: what was chosen and why

  bool any() const { return optimizer || amp_unscale || cross_entropy || preprocess || bucket_epilogue || transformer; }
};

KernelChoice choose_kernels(bool fused_requested, const c10::Device& device);

// Tells a freshly built model what `k` chose for it (today: `transformer`, the
// fused LayerNorm and bias+GELU of the text and speech models, in training).
void apply_kernel_choice(const KernelChoice& k, models::ImageModel& model);

}  // namespace medtrain::engine
