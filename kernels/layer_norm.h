#pragma once
// Fused LayerNorm over the last dimension, forward and backward, matching
// at::layer_norm(x, {D}, gamma, beta, eps) (biased variance, eps inside the sqrt).
//   forward : one read of each row (held in cache for the second and third
//             pass), y, plus per-row mean and rstd (fp32) for backward.
//   backward: dx per row in one kernel; dgamma/dbeta as column partial sums
//             over row chunks, then one small sum.
// x: [..., D] contiguous, fp32 or bf16 (fp64 on the CPU for gradient checks);
// gamma, beta: [D], x's dtype and device. Math and statistics in fp32 (fp64).
// CUDA: current stream; CPU: the loops of layer_norm_ref.cpp.
#include <ATen/core/Tensor.h>

#include <tuple>

namespace medtrain::kernels {

// Autograd-aware; gradients flow to x, gamma and beta.
at::Tensor layer_norm(const at::Tensor& x, const at::Tensor& gamma, const at::Tensor& beta, double eps = 1e-5);

// {y, mean [rows], rstd [rows]} (statistics fp32, fp64 for fp64 x).
std::tuple<at::Tensor, at::Tensor, at::Tensor> layer_norm_forward(const at::Tensor& x, const at::Tensor& gamma,
                                                                  const at::Tensor& beta, double eps);
// {dx, dgamma, dbeta}.
std::tuple<at::Tensor, at::Tensor, at::Tensor> layer_norm_backward(const at::Tensor& dy, const at::Tensor& x,
                                                                   const at::Tensor& mean, const at::Tensor& rstd,
                                                                   const at::Tensor& gamma);

}  // namespace medtrain::kernels
