#pragma once
// ConvNeXt-Tiny (convnext.h) rebuilt for inference, channels_last throughout
// so that every LayerNorm and Linear reads the map as contiguous [N*H*W, C]
// rows with no permute copies:
//   7x7 depthwise conv      prepacked oneDNN (groups = C)
//   LayerNorm               at::layer_norm over the rows' C
//   Linear C->4C + GELU     prepacked oneDNN matrix product, exact GELU fused
//   Linear 4C->C            layer scale folded into its weight and bias (float64,
//                           rounded once), the residual add fused ("add" post-op)
//   stem, downsampling      the convs prepacked, their LayerNorms on the rows
// Stochastic depth is the identity in eval. On the CPU a large batch runs 4
// images at a time (batch_chunks.h). Equal to the eval-mode model to
// float rounding (tests/models/cv: 1e-5 relative). Built from a loaded model by
// parameter name; the model is not referenced afterwards.
#include <c10/core/Device.h>

#include <memory>

#include "models/image_model.h"

namespace medtrain::models {

std::shared_ptr<ImageModel> fused_convnext(const ImageModel& convnext, const c10::Device& device);

}  // namespace medtrain::models
