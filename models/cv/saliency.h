#pragma once
// Where a CNN classifier looks: Grad-CAM (Selvaraju et al. 2017) computed the
// way MONAI 1.6's monai.visualize.GradCAM computes it, and occlusion
// sensitivity computed the way monai.visualize.OcclusionSensitivity does.
// Maps come back at the input's spatial size, one per sample, in [0, 1] with
// 1 = most important for the class (note: MONAI's own default_normalizer
// flips this, 1 = least important; ours is 1 minus MONAI's map).
// 2D and 3D inputs alike (3D untested: the zoo has no 3D classifier).
#include <torch/types.h>

#include <cstdint>
#include <optional>
#include <string>

#include "models/image_model.h"

namespace medtrain::models::cv {

// The Grad-CAM target layer of a zoo architecture, by its torchvision module
// name: "layer4" (ResNets), "features.norm5" (DenseNets: after the ReLU that
// their forward applies to it), "features" (EfficientNet, ConvNeXt: the last
// stage's output). Throws std::invalid_argument naming the architecture when
// it has no convolution layer to explain (text and speech models, U-Nets that
// segment, unknown names).
std::string grad_cam_layer(const std::string& architecture);

// Grad-CAM maps [N, 1, *spatial] of `x` [N, C, *spatial] for `class_index`
// (per sample: the argmax of its logits when not given). As MONAI: the
// gradient of the class logit with respect to the target layer's activations
// A, averaged over space, weighs A's channels; the ReLU of the weighted sum is
// upsampled (bi/trilinear, align_corners false) to the input size and scaled
// per sample to [0, 1] (min -> 0, max -> 1; a constant map gives all 0).
// `model` is the (unfused) classifier built for `architecture` (it must
// implement models/cv/cam_split.h); it runs in eval mode and is left in the
// mode it was in. Throws std::invalid_argument for a bad architecture, input
// or class index, std::logic_error under InferenceMode (gradients needed).
// Differs from MONAI only where MONAI is wrong: with a batch and no class
// index, MONAI back-propagates the sum of every sample's argmax logit through
// every sample; here each sample uses its own.
torch::Tensor grad_cam(ImageModel& model, const std::string& architecture, const torch::Tensor& x,
                       std::optional<int64_t> class_index = std::nullopt);

// What hides a patch (MONAI's `mode`): multiply by 1 - a Gaussian centred on
// the patch (gaussian), or fill with the image's mean (mean_img) or with the
// patch's own mean (mean_patch, as MONAI documents it; MONAI 1.6.1 swaps add
// and multiply there and scales the patch by its mean instead).
enum class OcclusionMode { gaussian, mean_img, mean_patch };

// "gaussian" | "mean_img" | "mean_patch"; std::invalid_argument naming the others.
OcclusionMode occlusion_mode(const std::string& name);

// MONAI OcclusionSensitivity's parameters and defaults.
struct OcclusionOptions {
  int64_t mask_size = 16;  // side of the square (cube) patch hidden, pixels; <= every spatial size
  double overlap = 0.6;    // of neighbouring patches, in [0, 1): patch step = max(1, floor(mask * (1 - overlap)))
  OcclusionMode mode = OcclusionMode::gaussian;
  int64_t n_batch = 16;    // occluded copies per forward
};

// MONAI's occlusion map [1, classes, *spatial] of one image x [1, C, *spatial]:
// at each pixel, the class probabilities (softmax; sigmoid for a single logit)
// with the patches covering it hidden, averaged over those patches (Gaussian-
// weighted towards a patch's centre in gaussian mode). Lower = more important.
torch::Tensor occlusion_probabilities(ImageModel& model, const torch::Tensor& x, const OcclusionOptions& options = {});

// Occlusion sensitivity [N, 1, *spatial] for `class_index` (per sample: the
// argmax of its logits when not given): occlusion_probabilities' map of that
// class p, as (max p - p) / (max p - min p) per sample, so that 1 marks where
// hiding the image costs the class most (a constant map gives all 0).
// Throws std::invalid_argument for bad options, input or class index.
torch::Tensor occlusion(ImageModel& model, const torch::Tensor& x, std::optional<int64_t> class_index,
                        const OcclusionOptions& options = {});

}  // namespace medtrain::models::cv
