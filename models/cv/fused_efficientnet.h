#pragma once
// EfficientNet-B0 (efficientnet.h) rebuilt for inference:
//   stem, expand, depthwise, head   conv + BN folded, SiLU fused ("swish"
//                                   post-op); the depthwise convs prepacked too
//   squeeze-excitation              plain ATen on the pooled [N, C] vector (two
//                                   small matrix products), then one in-place
//                                   per-channel multiply of the depthwise output
//   project                         conv + BN folded; the residual add fused
//                                   (binary "add" post-op) where the block keeps
//                                   its shape (stochastic depth is the identity
//                                   in eval)
// channels_last activations throughout, under c10::InferenceMode; on the CPU a
// large batch runs 4 images at a time (batch_chunks.h). Equal to the
// eval-mode model to float rounding (tests/models/cv: 1e-5 relative). Built
// from a loaded model by parameter name; the model is not referenced afterwards.
#include <c10/core/Device.h>

#include <memory>

#include "models/image_model.h"

namespace medtrain::models {

std::shared_ptr<ImageModel> fused_efficientnet(const ImageModel& efficientnet, const c10::Device& device);

}  // namespace medtrain::models
