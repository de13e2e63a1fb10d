#pragma once
// The inference graph of a trained CNN: the same function as the eval-mode
// model, rebuilt once at load time for speed (batch norm folded into the
// convolutions, fused epilogues, prepacked oneDNN weights, channels_last,
// inference mode). ResNets, DenseNets, EfficientNet-B0 and ConvNeXt-Tiny have
// one (fused_resnet.h, fused_densenet.h, fused_efficientnet.h,
// fused_convnext.h); other architectures run as they are. The U-Nets
// (fused_unet.h) normalize with InstanceNorm, whose statistics come from each
// input, so there is no norm to fold: their graph prepacks the convolutions
// (transposed ones too, 2D and 3D) and runs InstanceNorm + LeakyReLU as two
// passes over the channels_last buffer.
//
// The returned model owns copies of the weights it needs and does not refer to
// `model`; its forward runs under c10::InferenceMode (its outputs are inference
// tensors: read them, do not backpropagate through them).
#include <c10/core/Device.h>

#include <memory>
#include <string>

#include "models/image_model.h"

namespace medtrain::models {

struct InferenceGraph {
  std::shared_ptr<ImageModel> model;
  std::string description;  // what was done, for a log line: "resnet50: 53 convolutions ... (oneDNN)"
};

// `model` must be in eval mode with its weights loaded, on `device`.
InferenceGraph inference_graph(const std::shared_ptr<ImageModel>& model, const std::string& architecture,
                               const c10::Device& device);

}  // namespace medtrain::models
