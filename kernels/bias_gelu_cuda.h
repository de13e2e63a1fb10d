#pragma once
// Raw launchers of kernels/bias_gelu.cu and CPU references with the same
// arguments (no LibTorch types). Arrays: x, dy, y, dx [rows, d]; bias [d].
#include <cuda_runtime_api.h>

#include <cstdint>

#include "kernels/host_device.h"

namespace medtrain::kernels {
namespace cuda {
void bias_gelu_forward(const void* x, const void* bias, void* y, DType dt, int64_t rows, int64_t d,
                       bool tanh_approx, cudaStream_t stream);
void bias_gelu_backward(const void* dy, const void* x, const void* bias, void* dx, DType dt, int64_t rows,
                        int64_t d, bool tanh_approx, cudaStream_t stream);
}  // namespace cuda

namespace ref {
void bias_gelu_forward(const void* x, const void* bias, void* y, DType dt, int64_t rows, int64_t d,
                       bool tanh_approx);
void bias_gelu_backward(const void* dy, const void* x, const void* bias, void* dx, DType dt, int64_t rows,
                        int64_t d, bool tanh_approx);
}  // namespace ref
}  // namespace medtrain::kernels
