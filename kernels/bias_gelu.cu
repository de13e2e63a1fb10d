// Fused bias + GELU kernels: one block per row (grid-stride over rows), so the
// bias column index needs no division; loads and stores coalesce along the row.
#include <cuda_bf16.h>
#include <cuda_runtime.h>

#include <algorithm>
#include <cstdint>

#include "kernels/bias_gelu_cuda.h"
#include "kernels/cuda_check.h"
#include "kernels/element_access.cuh"
#include "kernels/gelu_math.h"

namespace medtrain::kernels::cuda {
namespace {

constexpr int kThreads = 256;

template <typename T>
__global__ void __launch_bounds__(kThreads)
    forward_kernel(const T* __restrict__ x, const T* __restrict__ bias, T* __restrict__ y, int64_t rows,
                   int64_t d, bool tanh_approx) {
  for (int64_t r = blockIdx.x; r < rows; r += gridDim.x) {
    for (int64_t j = threadIdx.x; j < d; j += blockDim.x) {
      const float z = ld(x, r * d + j) + ld(bias, j);
      st(y, r * d + j, detail::gelu(z, tanh_approx));
    }
  }
}

template <typename T>
__global__ void __launch_bounds__(kThreads)
    backward_kernel(const T* __restrict__ dy, const T* __restrict__ x, const T* __restrict__ bias,
                    T* __restrict__ dx, int64_t rows, int64_t d, bool tanh_approx) {
  for (int64_t r = blockIdx.x; r < rows; r += gridDim.x) {
    for (int64_t j = threadIdx.x; j < d; j += blockDim.x) {
      const int64_t i = r * d + j;
      const float z = ld(x, i) + ld(bias, j);
      st(dx, i, ld(dy, i) * detail::gelu_grad(z, tanh_approx));
    }
  }
}

int grid_for(int64_t rows) { return static_cast<int>(std::min<int64_t>(rows, 1 << 30)); }

}  // namespace

void bias_gelu_forward(const void* x, const void* bias, void* y, DType dt, int64_t rows, int64_t d,
                       bool tanh_approx, cudaStream_t stream) {
  if (rows == 0 || d == 0) return;
  if (dt == DType::kBF16) {
    forward_kernel<<<grid_for(rows), kThreads, 0, stream>>>(
        static_cast<const __nv_bfloat16*>(x), static_cast<const __nv_bfloat16*>(bias),
        static_cast<__nv_bfloat16*>(y), rows, d, tanh_approx);
  } else {
    forward_kernel<<<grid_for(rows), kThreads, 0, stream>>>(
        static_cast<const float*>(x), static_cast<const float*>(bias), static_cast<float*>(y), rows, d,
        tanh_approx);
  }
  MEDTRAIN_CUDA_CHECK_LAUNCH("bias_gelu forward_kernel");
}

void bias_gelu_backward(const void* dy, const void* x, const void* bias, void* dx, DType dt, int64_t rows,
                        int64_t d, bool tanh_approx, cudaStream_t stream) {
  if (rows == 0 || d == 0) return;
  if (dt == DType::kBF16) {
    backward_kernel<<<grid_for(rows), kThreads, 0, stream>>>(
        static_cast<const __nv_bfloat16*>(dy), static_cast<const __nv_bfloat16*>(x),
        static_cast<const __nv_bfloat16*>(bias), static_cast<__nv_bfloat16*>(dx), rows, d, tanh_approx);
  } else {
    backward_kernel<<<grid_for(rows), kThreads, 0, stream>>>(
        static_cast<const float*>(dy), static_cast<const float*>(x), static_cast<const float*>(bias),
        static_cast<float*>(dx), rows, d, tanh_approx);
  }
  MEDTRAIN_CUDA_CHECK_LAUNCH("bias_gelu backward_kernel");
}

}  // namespace medtrain::kernels::cuda
