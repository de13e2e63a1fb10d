#pragma once
// relu(x * scale + shift) per channel in one pass over memory, for DenseNet's
// pre-activation batch norms (Note [DenseNet folding] in fused_densenet.cpp).
//
// ATen's addcmul_out + relu_ reads and writes the features twice (and on a
// channel slice of the dense block's buffer, through its strided iterator);
// this reads each pixel's channels once and writes them once. That pass was a
// fifth of DenseNet-121's batch-1 time.
#include <ATen/core/Tensor.h>

namespace medtrain::models {

// x: float [N, C, H, W] on the CPU in channels_last layout, possibly a channel
// slice of a wider channels_last tensor (each pixel's C values contiguous,
// pixels evenly strided); scale, shift: float [C] contiguous. Returns a new
// dense channels_last [N, C, H, W]. Another device, dtype or layout runs the
// same math as ATen ops.
at::Tensor channel_affine_relu(const at::Tensor& x, const at::Tensor& scale, const at::Tensor& shift);

}  // namespace medtrain::models
