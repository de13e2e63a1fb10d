#pragma once
// Raw launchers of the multi-tensor optimizer kernels (multi_tensor_optim.cu).
// No LibTorch types here: the .cu file compiles with the CUDA headers alone;
// kernels/multi_tensor_optim.cpp checks the tensors and calls these.
// All pointers are device pointers to fp32 data; every launch goes on `stream`.
#include <cuda_runtime_api.h>

#include <cstdint>

namespace medtrain::kernels::cuda {

// One tensor of the list: up to four same-length arrays (AdamW: param, grad,
// exp_avg, exp_avg_sq; SGD: param, grad, momentum_buffer; unscale: grad) and two
// per-tensor scalars whose meaning depends on the op (see each launcher).
struct TensorSlot {
  void* ptr[4] = {nullptr, nullptr, nullptr, nullptr};
  int64_t numel = 0;
  float s0 = 0.f;
  float s1 = 0.f;
};

struct AdamWHyper {
  float beta1, one_minus_beta1, beta2, one_minus_beta2, eps;
  float decay_factor;  // 1 - lr * weight_decay, computed in double then rounded (as torch)
  bool apply_decay;    // weight_decay != 0
};

// slot.s0 = -lr / bias_correction1, slot.s1 = sqrt(bias_correction2) (both
// computed in double on the host, as torch::optim::AdamW does).
// inv_scale: null, or one float the gradients are multiplied by (not written back).
// found_inf: null, or one float; when it is non-zero the whole update is skipped.
void adamw_multi_tensor(const TensorSlot* slots, int64_t count, const AdamWHyper& h,
                        const float* inv_scale, const float* found_inf, cudaStream_t stream);

struct SgdHyper {
  float momentum, one_minus_dampening, weight_decay, neg_lr;
  bool nesterov, has_momentum;
};

// slot.s0 = 1 when the momentum buffer is new (it is set to the gradient, as
// torch::optim::SGD's clone on the first step), else 0. ptr[2] is the momentum
// buffer (ignored when !has_momentum).
void sgd_multi_tensor(const TensorSlot* slots, int64_t count, const SgdHyper& h,
                      const float* inv_scale, const float* found_inf, cudaStream_t stream);

// grads *= *inv_scale (in place) and *found_inf = 1 when any result is inf/NaN
// (never cleared: the caller zeroes it, as torch's _amp_foreach_non_finite_check_and_unscale_).
void unscale_check_multi_tensor(const TensorSlot* slots, int64_t count, const float* inv_scale,
                                float* found_inf, cudaStream_t stream);

}  // namespace medtrain::kernels::cuda
