#pragma once
// Stochastic depth ("row" mode, Huang et al. 2016), as torchvision.ops.
// stochastic_depth: in training each sample's residual branch is zeroed with
// probability p and the survivors scaled by 1 / (1 - p); in eval mode, or with
// p == 0, the identity (so export traces no op for it). Used by EfficientNet
// and ConvNeXt, whose block k of K gets p = max_p * k / K (see each model).
#include <ATen/core/Tensor.h>

namespace medtrain::models {

// x: [N, ...] float on any device; p in [0, 1] (ModelError otherwise).
at::Tensor stochastic_depth(const at::Tensor& x, double p, bool training);

}  // namespace medtrain::models
