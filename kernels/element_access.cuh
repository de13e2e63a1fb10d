#pragma once
// Element loads and stores for kernels that compute in fp32 on fp32 or bf16
// tensors: bf16 is widened on load and rounded to nearest even on store.
// (__forceinline__ is inline: one definition per translation unit is fine.)
#include <cuda_bf16.h>

#include <cstdint>

namespace medtrain::kernels::cuda {

__device__ __forceinline__ float ld(const float* p, int64_t i) { return p[i]; }
__device__ __forceinline__ float ld(const __nv_bfloat16* p, int64_t i) { return __bfloat162float(p[i]); }
__device__ __forceinline__ void st(float* p, int64_t i, float v) { p[i] = v; }
__device__ __forceinline__ void st(__nv_bfloat16* p, int64_t i, float v) { p[i] = __float2bfloat16_rn(v); }

}  // namespace medtrain::kernels::cuda
