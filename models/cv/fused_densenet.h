#pragma once
// DenseNet-121/169 (densenet.h) rebuilt for inference. What folds and what
// cannot (Note [DenseNet folding] in fused_densenet.cpp):
//   conv0 + norm0 + relu0           folded, ReLU fused
//   denselayer: norm1, relu         a per-channel affine + ReLU over the block's
//                                   features (pre-activation: nothing to fold into)
//               conv1 + norm2 + relu folded, ReLU fused; conv2 plain
//   transition: norm, relu          affine + ReLU; then the 2x2 average pool runs
//                                   before the 1x1 conv (both linear: same result,
//                                   a quarter of the conv's work)
//   norm5 + relu                    affine + ReLU
// A dense block writes each layer's new features into one preallocated
// channels_last buffer instead of concatenating all earlier features per layer.
// Equal to the eval-mode model to float rounding (1e-5 relative, tested).
#include <c10/core/Device.h>

#include <memory>

#include "models/image_model.h"

namespace medtrain::models {

std::shared_ptr<ImageModel> fused_densenet(const ImageModel& densenet, const c10::Device& device);

}  // namespace medtrain::models
