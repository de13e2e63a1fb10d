#pragma once
// Fused bias + GELU: y = gelu(x + bias) with bias broadcast over the last
// dimension, forward and backward in one pass each (the unfused chain writes
// and re-reads x + bias). gelu is exact (erf) or the tanh approximation,
// matching at::gelu(..., "none" / "tanh").
//
// x: [..., D] contiguous, fp32 or bf16 (fp64 on the CPU, for gradient checks);
// bias: [D], same dtype and device. Math in fp32 (fp64 for fp64). CUDA:
// current stream; CPU: the loops of bias_gelu_ref.cpp.
#include <ATen/core/Tensor.h>

#include <utility>

namespace medtrain::kernels {

// Autograd-aware; gradients flow to x and bias.
at::Tensor bias_gelu(const at::Tensor& x, const at::Tensor& bias, bool tanh_approx = false);

at::Tensor bias_gelu_forward(const at::Tensor& x, const at::Tensor& bias, bool tanh_approx);
// {dx, dbias}; dbias is dx summed over every leading dimension.
std::pair<at::Tensor, at::Tensor> bias_gelu_backward(const at::Tensor& dy, const at::Tensor& x,
                                                     const at::Tensor& bias, bool tanh_approx);

}  // namespace medtrain::kernels
