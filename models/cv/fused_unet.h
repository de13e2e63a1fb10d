#pragma once
// The 2D and 3D U-Nets (unet.h, MONAI BasicUNet) rebuilt for inference:
//   conv + InstanceNorm + LeakyReLU   a prepacked oneDNN convolution with its
//                                     bias, then one statistics pass and one
//                                     normalize + LeakyReLU pass in place
//                                     (unet_inference_ops.h); nothing folds:
//                                     InstanceNorm's statistics come from each input
//   concat                            none: each encoder level's last
//                                     normalize pass writes into the first
//                                     channels of that level's buffer, the
//                                     upsampled map is copied into the rest
//   max pool                          reads the encoder channels of that buffer
//   upsampling                        a prepacked oneDNN transposed convolution
//                                     (MONAI's replication pad for odd sizes)
//   final 1x1 convolution             prepacked oneDNN; output made contiguous
// on channels_last(_3d) activations, under c10::InferenceMode; on the CPU a
// batch runs in chunks of 2 images (Note [U-Net batch chunks]). Equal to the
// eval-mode model to float rounding (tests/models/cv/fused_unet_test.cpp:
// 1e-5 relative). Built from a loaded model by parameter name; the model is
// not changed and not referenced afterwards.
#include <c10/core/Device.h>

#include <memory>

#include "models/image_model.h"

namespace medtrain::models {

// spatial_dims: 2 (unet2d) or 3 (unet3d).
std::shared_ptr<ImageModel> fused_unet(const ImageModel& unet, int spatial_dims, const c10::Device& device);

}  // namespace medtrain::models
