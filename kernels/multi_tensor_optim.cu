// Multi-tensor optimizer kernels: one launch covers many parameters. The tensor
// table travels as a kernel argument (by value, < 32 KB: CUDA >= 12.1 on sm_70+),
// so no host-to-device copy and the launch can be captured in a CUDA graph.
// Each block takes one chunk of one tensor; see Note [Optimizer op order].
#include <cuda_runtime.h>

#include <cstdint>
#include <vector>

#include "kernels/cuda_check.h"
#include "kernels/multi_tensor_optim_cuda.h"

namespace medtrain::kernels::cuda {
namespace {

constexpr int kThreads = 512;
constexpr int64_t kChunk = 65536;
constexpr int kMaxTensors = 96;
constexpr int kMaxBlocks = 1024;

template <int D>
struct Batch {
  float* ptr[D][kMaxTensors];
  int64_t numel[kMaxTensors];
  float s0[kMaxTensors];
  float s1[kMaxTensors];
  uint16_t tensor_of_block[kMaxBlocks];
  int32_t chunk_of_block[kMaxBlocks];
};
static_assert(sizeof(Batch<4>) < 30000, "kernel argument limit is 32764 bytes");

// Note [Optimizer op order]: every rounding step of torch::optim::AdamW / SGD on
// the CPU is reproduced: its vectorised `add_(x, alpha)` is one fused
// multiply-add (Vectorized::fmadd), `mul_`, `addcmul_`, `addcdiv_`, `sqrt`, `/`
// are separately rounded. The explicit __f*_rn intrinsics stop nvcc from
// contracting them, so the GPU, the CPU reference and torch agree to the bit.
struct AdamWOp {
  static constexpr int kDepth = 4;
  __device__ static constexpr bool writes(int d) { return d != 1; }  // not the grad
  AdamWHyper h;
  const float* inv_scale;
  __device__ bool operator()(float (&v)[4], float neg_step, float bc2_sqrt) const {
    float p = v[0], g = v[1], m = v[2], s = v[3];
    if (inv_scale) g = __fmul_rn(g, *inv_scale);
    if (h.apply_decay) p = __fmul_rn(p, h.decay_factor);
    m = __fmaf_rn(g, h.one_minus_beta1, __fmul_rn(m, h.beta1));
    s = __fadd_rn(__fmul_rn(s, h.beta2), __fmul_rn(__fmul_rn(h.one_minus_beta2, g), g));
    const float denom = __fadd_rn(__fdiv_rn(__fsqrt_rn(s), bc2_sqrt), h.eps);
    p = __fadd_rn(p, __fdiv_rn(__fmul_rn(neg_step, m), denom));
    v[0] = p;
    v[2] = m;
    v[3] = s;
    return false;
  }
};

template <bool kMomentum>
struct SgdOp {
  static constexpr int kDepth = kMomentum ? 3 : 2;
  __device__ static constexpr bool writes(int d) { return d != 1; }
  SgdHyper h;
  const float* inv_scale;
  __device__ bool operator()(float (&v)[kDepth], float first, float) const {
    float p = v[0], g = v[1];
    if (inv_scale) g = __fmul_rn(g, *inv_scale);
    if (h.weight_decay != 0.f) g = __fmaf_rn(p, h.weight_decay, g);
    if constexpr (kMomentum) {
      float buf = first != 0.f ? g : __fmaf_rn(g, h.one_minus_dampening, __fmul_rn(v[2], h.momentum));
      v[2] = buf;
      g = h.nesterov ? __fmaf_rn(buf, h.momentum, g) : buf;
    }
    v[0] = __fmaf_rn(g, h.neg_lr, p);
    return false;
  }
};

struct UnscaleCheckOp {
  static constexpr int kDepth = 1;
  __device__ static constexpr bool writes(int) { return true; }
  const float* inv_scale;
  __device__ bool operator()(float (&v)[1], float, float) const {
    v[0] = __fmul_rn(v[0], *inv_scale);
    return !isfinite(v[0]);
  }
};

template <class Op>
__device__ __forceinline__ bool apply_scalar(const Batch<Op::kDepth>& b, const Op& op, int t,
                                             int64_t i) {
  constexpr int D = Op::kDepth;
  float v[D];
#pragma unroll
  for (int d = 0; d < D; ++d) v[d] = b.ptr[d][t][i];
  const bool bad = op(v, b.s0[t], b.s1[t]);
#pragma unroll
  for (int d = 0; d < D; ++d)
    if (Op::writes(d)) b.ptr[d][t][i] = v[d];
  return bad;
}

template <class Op>
__global__ void __launch_bounds__(kThreads)
    multi_tensor_kernel(const __grid_constant__ Batch<Op::kDepth> b, const Op op,
                        const float* found_inf, float* set_found_inf) {
  constexpr int D = Op::kDepth;
  if (found_inf != nullptr && *found_inf != 0.f) return;  // AMP: skip the step
  const int t = b.tensor_of_block[blockIdx.x];
  const int64_t start = static_cast<int64_t>(b.chunk_of_block[blockIdx.x]) * kChunk;
  const int64_t n = min(kChunk, b.numel[t] - start);
  bool aligned = true;
#pragma unroll
  for (int d = 0; d < D; ++d) aligned &= (reinterpret_cast<uintptr_t>(b.ptr[d][t] + start) % 16) == 0;
  bool bad = false;
  int64_t done = 0;
  if (aligned) {  // 16-byte loads and stores: four elements per thread and array
    const int64_t n4 = n / 4;
    for (int64_t q = threadIdx.x; q < n4; q += blockDim.x) {
      float4 r[D];
#pragma unroll
      for (int d = 0; d < D; ++d) r[d] = reinterpret_cast<const float4*>(b.ptr[d][t] + start)[q];
#pragma unroll
      for (int k = 0; k < 4; ++k) {
        float v[D];
#pragma unroll
        for (int d = 0; d < D; ++d) v[d] = reinterpret_cast<float*>(&r[d])[k];
        bad |= op(v, b.s0[t], b.s1[t]);
#pragma unroll
        for (int d = 0; d < D; ++d) reinterpret_cast<float*>(&r[d])[k] = v[d];
      }
#pragma unroll
      for (int d = 0; d < D; ++d)
        if (Op::writes(d)) reinterpret_cast<float4*>(b.ptr[d][t] + start)[q] = r[d];
    }
    done = n4 * 4;
  }
  for (int64_t i = done + threadIdx.x; i < n; i += blockDim.x) bad |= apply_scalar(b, op, t, start + i);
  if (set_found_inf != nullptr && __syncthreads_or(bad) && threadIdx.x == 0) *set_found_inf = 1.f;
}

// Packs the tensor list into batches of at most kMaxTensors tensors and
// kMaxBlocks chunks, one launch per batch.
template <class Op>
void launch(const TensorSlot* slots, int64_t count, const Op& op, const float* found_inf,
            float* set_found_inf, cudaStream_t stream) {
  constexpr int D = Op::kDepth;
  Batch<D> b;
  int tensors = 0, blocks = 0;
  auto flush = [&] {
    if (blocks > 0) {
      multi_tensor_kernel<Op><<<blocks, kThreads, 0, stream>>>(b, op, found_inf, set_found_inf);
      MEDTRAIN_CUDA_CHECK_LAUNCH("multi_tensor_kernel");
    }
    tensors = 0;
    blocks = 0;
  };
  for (int64_t i = 0; i < count; ++i) {
    const TensorSlot& s = slots[i];
    if (s.numel == 0) continue;
    const int64_t chunks = (s.numel + kChunk - 1) / kChunk;
    for (int64_t c = 0; c < chunks; ++c) {
      if (c == 0 || tensors == 0) {  // (re)register the tensor in this batch
        if (tensors == kMaxTensors) flush();
        for (int d = 0; d < D; ++d) b.ptr[d][tensors] = static_cast<float*>(s.ptr[d]);
        b.numel[tensors] = s.numel;
        b.s0[tensors] = s.s0;
        b.s1[tensors] = s.s1;
        ++tensors;
      }
      b.tensor_of_block[blocks] = static_cast<uint16_t>(tensors - 1);
      b.chunk_of_block[blocks] = static_cast<int32_t>(c);
      if (++blocks == kMaxBlocks) flush();
    }
  }
  flush();
}

}  // namespace

void adamw_multi_tensor(const TensorSlot* slots, int64_t count, const AdamWHyper& h,
                        const float* inv_scale, const float* found_inf, cudaStream_t stream) {
  launch(slots, count, AdamWOp{h, inv_scale}, found_inf, nullptr, stream);
}

void sgd_multi_tensor(const TensorSlot* slots, int64_t count, const SgdHyper& h,
                      const float* inv_scale, const float* found_inf, cudaStream_t stream) {
  if (h.has_momentum) {
    launch(slots, count, SgdOp<true>{h, inv_scale}, found_inf, nullptr, stream);
  } else {
    launch(slots, count, SgdOp<false>{h, inv_scale}, found_inf, nullptr, stream);
  }
}

void unscale_check_multi_tensor(const TensorSlot* slots, int64_t count, const float* inv_scale,
                                float* found_inf, cudaStream_t stream) {
  launch(slots, count, UnscaleCheckOp{inv_scale}, nullptr, found_inf, stream);
}

}  // namespace medtrain::kernels::cuda
