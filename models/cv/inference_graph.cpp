#include "models/cv/inference_graph.h"

#include <string>

#include "models/cv/fused_conv.h"
#include "models/cv/fused_convnext.h"
#include "models/cv/fused_densenet.h"
#include "models/cv/fused_efficientnet.h"
#include "models/cv/fused_resnet.h"
#include "models/cv/fused_unet.h"
#include "models/cv/onednn/conv_primitive.h"
#include "models/cv/own_conv.h"

namespace medtrain::models {

namespace {

bool starts_with(const std::string& s, const char* prefix) { return s.rfind(prefix, 0) == 0; }

std::string backend(const c10::Device& device) {
  if (!device.is_cpu()) return "LibTorch convolutions on " + device.str();
  if (own_convolution_primitives_enabled()) {
    return std::string("medtrain's oneDNN convolution primitives (") +
           (onednn::winograd_enabled() ? "Winograd for large 3x3s" : "Winograd off") +
           "; grouped ones prepacked by ATen), channels_last";
  }
  return onednn_convolutions_available() ? "prepacked oneDNN convolutions, channels_last"
                                         : "LibTorch convolutions (this LibTorch has no oneDNN)";
}

}  // namespace

InferenceGraph inference_graph(const std::shared_ptr<ImageModel>& model, const std::string& architecture,
                               const c10::Device& device) {
  if (starts_with(architecture, "resnet")) {
    return {fused_resnet(*model, device),
            architecture + ": batch norm folded, ReLU and residual add fused, " + backend(device)};
  }
  if (starts_with(architecture, "densenet")) {
    return {fused_densenet(*model, device),
            architecture + ": norm0/norm2 folded, ReLU fused, " + backend(device)};
  }
  if (starts_with(architecture, "efficientnet")) {
    return {fused_efficientnet(*model, device),
            architecture + ": batch norm folded, SiLU and residual add fused, " + backend(device)};
  }
  if (starts_with(architecture, "convnext")) {
    return {fused_convnext(*model, device),
            architecture + ": layer scale folded, GELU and residual add fused into the Linears, " + backend(device)};
  }
  if (architecture == "unet2d" || architecture == "unet3d") {
    return {fused_unet(*model, architecture == "unet2d" ? 2 : 3, device),
            architecture + ": InstanceNorm + LeakyReLU in two passes, transposed convolutions " +
                (device.is_cpu() && onednn_convolutions_available() ? "prepacked too, " : "too, ") + backend(device)};
  }
  return {model, architecture + ": runs as trained (no inference graph for this architecture)"};
}

}  // namespace medtrain::models
