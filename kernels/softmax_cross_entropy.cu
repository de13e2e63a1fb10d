// Fused softmax cross-entropy: one block per row. Pass 1 keeps an online
// (max, sum of exp) per thread plus the sum of logits, merged across the block;
// pass 2 writes the gradient. Two reads and one write of the row in all.
#include <cuda_bf16.h>
#include <cuda_runtime.h>

#include <cmath>
#include <cstdint>

#include "kernels/cuda_check.h"
#include "kernels/softmax_cross_entropy_cuda.h"

namespace medtrain::kernels::cuda {
namespace {

constexpr int kThreads = 512;

__device__ __forceinline__ float load(const float* p, int64_t i) { return p[i]; }
__device__ __forceinline__ float load(const __nv_bfloat16* p, int64_t i) { return __bfloat162float(p[i]); }
__device__ __forceinline__ void store(float* p, int64_t i, float v) { p[i] = v; }
__device__ __forceinline__ void store(__nv_bfloat16* p, int64_t i, float v) { p[i] = __float2bfloat16_rn(v); }

struct MaxSum {
  float m, s;
};

__device__ __forceinline__ MaxSum merge(MaxSum a, MaxSum b) {
  if (a.m == -INFINITY) return b;
  if (b.m == -INFINITY) return a;
  const float m = fmaxf(a.m, b.m);
  return {m, a.s * __expf(a.m - m) + b.s * __expf(b.m - m)};
}

// Block-wide merge of (max, sum) and a plain sum; every thread gets the result.
__device__ void block_reduce(MaxSum& ms, float& total) {
  __shared__ MaxSum s_ms[32];
  __shared__ float s_total[32];
  for (int o = 16; o > 0; o >>= 1) {
    ms = merge(ms, {__shfl_xor_sync(0xffffffffu, ms.m, o), __shfl_xor_sync(0xffffffffu, ms.s, o)});
    total += __shfl_xor_sync(0xffffffffu, total, o);
  }
  const int warp = threadIdx.x / 32, lane = threadIdx.x % 32;
  if (lane == 0) {
    s_ms[warp] = ms;
    s_total[warp] = total;
  }
  __syncthreads();
  const int warps = blockDim.x / 32;
  ms = lane < warps ? s_ms[lane] : MaxSum{-INFINITY, 0.f};
  total = lane < warps ? s_total[lane] : 0.f;
  for (int o = 16; o > 0; o >>= 1) {
    ms = merge(ms, {__shfl_xor_sync(0xffffffffu, ms.m, o), __shfl_xor_sync(0xffffffffu, ms.s, o)});
    total += __shfl_xor_sync(0xffffffffu, total, o);
  }
}

template <typename T>
__global__ void __launch_bounds__(kThreads) cross_entropy_kernel(CrossEntropyRows a) {
  const int64_t row = blockIdx.x;
  const T* x = static_cast<const T*>(a.logits) + row * a.v;
  T* g = a.grad ? static_cast<T*>(a.grad) + row * a.v : nullptr;
  const int64_t t = a.target[row];
  if (t == a.ignore_index) {
    if (threadIdx.x == 0) a.row_loss[row] = 0.f;
    if (g)
      for (int64_t j = threadIdx.x; j < a.v; j += blockDim.x) store(g, j, 0.f);
    return;
  }
  MaxSum ms{-INFINITY, 0.f};
  float total = 0.f;
  for (int64_t j = threadIdx.x; j < a.v; j += blockDim.x) {
    const float xj = load(x, j);
    ms = merge(ms, {xj, 1.f});
    total += xj;
  }
  block_reduce(ms, total);
  const float lse = ms.m + logf(ms.s);
  const bool bad = t < 0 || t >= a.v;
  if (threadIdx.x == 0) {
    const float nll = bad ? NAN : lse - load(x, t);
    const float smooth = lse - total / static_cast<float>(a.v);  // mean_j -log p_j
    a.row_loss[row] = (1.f - a.smoothing) * nll + a.smoothing * smooth;
  }
  if (!g) return;
  const float scale = *a.inv_count, off = a.smoothing / static_cast<float>(a.v);
  for (int64_t j = threadIdx.x; j < a.v; j += blockDim.x) {
    const float p = __expf(load(x, j) - lse);
    const float hot = j == t ? 1.f - a.smoothing : 0.f;
    store(g, j, (p - hot - off) * scale);
  }
}

}  // namespace

void softmax_cross_entropy_rows(const CrossEntropyRows& a, cudaStream_t stream) {
  if (a.n == 0) return;
  const int threads = a.v >= 4096 ? kThreads : 128;
  if (a.logits_bf16) {
    cross_entropy_kernel<__nv_bfloat16><<<static_cast<unsigned>(a.n), threads, 0, stream>>>(a);
  } else {
    cross_entropy_kernel<float><<<static_cast<unsigned>(a.n), threads, 0, stream>>>(a);
  }
  MEDTRAIN_CUDA_CHECK_LAUNCH("cross_entropy_kernel");
}

}  // namespace medtrain::kernels::cuda
