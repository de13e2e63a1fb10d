#pragma once
// Where a CNN classifier looks: Grad-CAM (Selvaraju et al. 2017) computed the
// way MONAI's monai.visualize.GradCAM computes it, and occlusion sensitivity.
// Maps come back at the input's spatial size, one per sample.
#include <torch/types.h>

#include <cstdint>
#include <optional>
#include <string>

#include "models/image_model.h"

namespace medtrain::models::cv {

// The Grad-CAM target layer of a zoo architecture, by its torchvision/MONAI
// module name (e.g. "layer4" for ResNets). Throws std::invalid_argument naming
// the architecture when it has no convolution layer to explain (text and
// speech models, U-Nets that segment).
std::string grad_cam_layer(const std::string& architecture);

// Grad-CAM maps [N, 1, *spatial] of `x` [N, C, *spatial] for `class_index`
// (per sample: the argmax of the logits when not given), normalised per
// sample as MONAI does. `model` is the (unfused) classifier of
// `architecture`, in eval mode. Needs gradients: do not call under
// InferenceMode.
torch::Tensor grad_cam(ImageModel& model, const std::string& architecture, const torch::Tensor& x,
                       std::optional<int64_t> class_index = std::nullopt);

struct OcclusionOptions {
  int64_t mask_size = 16;  // side of the square (cube) patch hidden, pixels
  int64_t stride = 8;      // distance between patch positions
  int64_t batch = 16;      // occluded copies per forward
};

// Occlusion sensitivity [N, 1, *spatial]: how much the class score falls when
// a patch around each pixel is hidden (filled with the image's mean),
// averaged over the patches covering it, scaled to [0, 1] per sample.
torch::Tensor occlusion(ImageModel& model, const torch::Tensor& x, std::optional<int64_t> class_index,
                        const OcclusionOptions& options = {});

}  // namespace medtrain::models::cv
