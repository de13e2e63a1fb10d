// Fused LayerNorm kernels. Forward and dx: one block per row with block-wide
// sums (the row stays in L1/L2 between passes). dgamma/dbeta: a thread per
// column walks one chunk of rows, so reads coalesce along the row.
#include <cuda_bf16.h>
#include <cuda_runtime.h>

#include <algorithm>
#include <cstdint>

#include "kernels/cuda_check.h"
#include "kernels/element_access.cuh"
#include "kernels/layer_norm_cuda.h"

namespace medtrain::kernels::cuda {
namespace {

constexpr int kThreads = 256;

// Sums (a, b) over the block; every thread gets the totals.
__device__ float2 block_sum2(float a, float b) {
  __shared__ float2 part[32];
  for (int o = 16; o > 0; o >>= 1) {
    a += __shfl_xor_sync(0xffffffffu, a, o);
    b += __shfl_xor_sync(0xffffffffu, b, o);
  }
  const int warp = threadIdx.x / 32, lane = threadIdx.x % 32;
  __syncthreads();  // part[] may still be read from a previous call
  if (lane == 0) part[warp] = make_float2(a, b);
  __syncthreads();
  const int warps = blockDim.x / 32;
  a = lane < warps ? part[lane].x : 0.f;
  b = lane < warps ? part[lane].y : 0.f;
  for (int o = 16; o > 0; o >>= 1) {
    a += __shfl_xor_sync(0xffffffffu, a, o);
    b += __shfl_xor_sync(0xffffffffu, b, o);
  }
  return make_float2(a, b);
}

template <typename T>
__global__ void __launch_bounds__(kThreads)
    forward_kernel(const T* __restrict__ x, const T* __restrict__ gamma, const T* __restrict__ beta,
                   T* __restrict__ y, float* __restrict__ mean, float* __restrict__ rstd, int64_t rows, int64_t d,
                   float eps) {
  for (int64_t r = blockIdx.x; r < rows; r += gridDim.x) {
    const T* xr = x + r * d;
    float s = 0.f;
    for (int64_t j = threadIdx.x; j < d; j += blockDim.x) s += ld(xr, j);
    const float mu = block_sum2(s, 0.f).x / static_cast<float>(d);
    float q = 0.f;  // two-pass variance: no cancellation for large means
    for (int64_t j = threadIdx.x; j < d; j += blockDim.x) {
      const float c = ld(xr, j) - mu;
      q += c * c;
    }
    const float rs = 1.f / sqrtf(block_sum2(q, 0.f).x / static_cast<float>(d) + eps);
    for (int64_t j = threadIdx.x; j < d; j += blockDim.x)
      st(y, r * d + j, (ld(xr, j) - mu) * rs * ld(gamma, j) + ld(beta, j));
    if (threadIdx.x == 0) {
      mean[r] = mu;
      rstd[r] = rs;
    }
  }
}

template <typename T>
__global__ void __launch_bounds__(kThreads)
    backward_dx_kernel(const T* __restrict__ dy, const T* __restrict__ x, const float* __restrict__ mean,
                       const float* __restrict__ rstd, const T* __restrict__ gamma, T* __restrict__ dx,
                       int64_t rows, int64_t d) {
  for (int64_t r = blockIdx.x; r < rows; r += gridDim.x) {
    const float mu = mean[r], rs = rstd[r];
    float a = 0.f, b = 0.f;
    for (int64_t j = threadIdx.x; j < d; j += blockDim.x) {
      const float gdy = ld(dy, r * d + j) * ld(gamma, j);
      a += gdy;
      b += gdy * (ld(x, r * d + j) - mu) * rs;
    }
    const float2 ab = block_sum2(a, b);
    const float ma = ab.x / static_cast<float>(d), mb = ab.y / static_cast<float>(d);
    for (int64_t j = threadIdx.x; j < d; j += blockDim.x) {
      const float gdy = ld(dy, r * d + j) * ld(gamma, j);
      const float xhat = (ld(x, r * d + j) - mu) * rs;
      st(dx, r * d + j, rs * (gdy - ma - xhat * mb));
    }
  }
}

template <typename T>
__global__ void __launch_bounds__(kThreads)
    backward_params_kernel(const T* __restrict__ dy, const T* __restrict__ x, const float* __restrict__ mean,
                           const float* __restrict__ rstd, float* __restrict__ dgamma_part,
                           float* __restrict__ dbeta_part, int64_t rows, int64_t d, int64_t rows_per_chunk) {
  const int64_t j = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x;
  if (j >= d) return;
  const int64_t chunk = blockIdx.y;
  const int64_t end = min(rows, (chunk + 1) * rows_per_chunk);
  float g = 0.f, b = 0.f;
  for (int64_t r = chunk * rows_per_chunk; r < end; ++r) {
    const float v = ld(dy, r * d + j);
    g += v * (ld(x, r * d + j) - mean[r]) * rstd[r];
    b += v;
  }
  dgamma_part[chunk * d + j] = g;
  dbeta_part[chunk * d + j] = b;
}

int grid_for(int64_t rows) { return static_cast<int>(std::min<int64_t>(rows, 1 << 30)); }

}  // namespace

void layer_norm_forward(const void* x, const void* gamma, const void* beta, void* y, float* mean, float* rstd,
                        const LayerNormArgs& a, cudaStream_t stream) {
  if (a.rows == 0) return;
  if (a.dt == DType::kBF16) {
    using T = __nv_bfloat16;
    forward_kernel<<<grid_for(a.rows), kThreads, 0, stream>>>(
        static_cast<const T*>(x), static_cast<const T*>(gamma), static_cast<const T*>(beta), static_cast<T*>(y),
        mean, rstd, a.rows, a.d, a.eps);
  } else {
    forward_kernel<<<grid_for(a.rows), kThreads, 0, stream>>>(
        static_cast<const float*>(x), static_cast<const float*>(gamma), static_cast<const float*>(beta),
        static_cast<float*>(y), mean, rstd, a.rows, a.d, a.eps);
  }
  MEDTRAIN_CUDA_CHECK_LAUNCH("layer_norm forward_kernel");
}

namespace {

template <typename T>
void launch_backward(const void* dy, const void* x, const float* mean, const float* rstd, const void* gamma,
                     void* dx, float* dgamma_part, float* dbeta_part, int64_t per_chunk, dim3 pgrid,
                     const LayerNormArgs& a, cudaStream_t stream) {
  backward_dx_kernel<<<grid_for(a.rows), kThreads, 0, stream>>>(
      static_cast<const T*>(dy), static_cast<const T*>(x), mean, rstd, static_cast<const T*>(gamma),
      static_cast<T*>(dx), a.rows, a.d);
  MEDTRAIN_CUDA_CHECK_LAUNCH("layer_norm backward_dx_kernel");
  backward_params_kernel<<<pgrid, kThreads, 0, stream>>>(static_cast<const T*>(dy), static_cast<const T*>(x), mean,
                                                         rstd, dgamma_part, dbeta_part, a.rows, a.d, per_chunk);
  MEDTRAIN_CUDA_CHECK_LAUNCH("layer_norm backward_params_kernel");
}

}  // namespace

void layer_norm_backward(const void* dy, const void* x, const float* mean, const float* rstd, const void* gamma,
                         void* dx, float* dgamma_part, float* dbeta_part, int64_t chunks,
                         const LayerNormArgs& a, cudaStream_t stream) {
  if (a.rows == 0 || a.d == 0) return;
  const int64_t per_chunk = (a.rows + chunks - 1) / chunks;
  const dim3 pgrid(static_cast<unsigned>((a.d + kThreads - 1) / kThreads), static_cast<unsigned>(chunks));
  if (a.dt == DType::kBF16) {
    launch_backward<__nv_bfloat16>(dy, x, mean, rstd, gamma, dx, dgamma_part, dbeta_part, per_chunk, pgrid, a,
                                   stream);
  } else {
    launch_backward<float>(dy, x, mean, rstd, gamma, dx, dgamma_part, dbeta_part, per_chunk, pgrid, a, stream);
  }
}

}  // namespace medtrain::kernels::cuda
