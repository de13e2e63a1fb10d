#pragma once
// ResNet-18/34/50/101 (resnet.h) rebuilt for inference: every batch norm folded
// into its convolution, each block's ReLUs and its residual add + ReLU fused
// into the convolutions (fused_conv.h), channels_last activations, under
// c10::InferenceMode. Computes what the eval-mode ResNet computes, to float
// rounding (tests/models/cv: 1e-5 relative). Built from a loaded model by
// parameter name; the model is not changed and not referenced afterwards.
#include <c10/core/Device.h>

#include <memory>

#include "models/image_model.h"

namespace medtrain::models {

std::shared_ptr<ImageModel> fused_resnet(const ImageModel& resnet, const c10::Device& device);

}  // namespace medtrain::models
