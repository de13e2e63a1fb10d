#pragma once
// Raw launchers of kernels/layer_norm.cu and the CPU references with the same
// arguments (no LibTorch types). x, y, dy, dx: [rows, d]; gamma, beta: [d];
// mean, rstd: [rows] in the statistics type (float; double for kF64);
// dgamma_part, dbeta_part: [chunks, d] float (double for kF64) partial sums.
#include <cuda_runtime_api.h>

#include <cstdint>

#include "kernels/host_device.h"

namespace medtrain::kernels {

struct LayerNormArgs {
  DType dt;
  int64_t rows, d;
  float eps;
};

namespace cuda {
void layer_norm_forward(const void* x, const void* gamma, const void* beta, void* y, float* mean, float* rstd,
                        const LayerNormArgs& a, cudaStream_t stream);
// chunks: how many row chunks the parameter gradients are split into.
void layer_norm_backward(const void* dy, const void* x, const float* mean, const float* rstd, const void* gamma,
                         void* dx, float* dgamma_part, float* dbeta_part, int64_t chunks,
                         const LayerNormArgs& a, cudaStream_t stream);
}  // namespace cuda

namespace ref {
void layer_norm_forward(const void* x, const void* gamma, const void* beta, void* y, void* mean, void* rstd,
                        const LayerNormArgs& a);
// Full parameter gradients in one chunk: dgamma, dbeta [d].
void layer_norm_backward(const void* dy, const void* x, const void* mean, const void* rstd, const void* gamma,
                         void* dx, void* dgamma, void* dbeta, const LayerNormArgs& a);
}  // namespace ref

}  // namespace medtrain::kernels
