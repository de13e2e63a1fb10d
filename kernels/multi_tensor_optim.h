#pragma once
// Multi-tensor optimizer steps: one pass over every parameter, fp32 math, the
// rounding order of torch::optim::AdamW / SGD (Note [Optimizer op order] in
// multi_tensor_optim.cu). CUDA tensors run the kernels of multi_tensor_optim.cu
// on the current stream (one launch per ~96 tensors / 64 M elements); CPU
// tensors run the plain loops of multi_tensor_optim_ref.cpp.
//
// Every list holds fp32, contiguous tensors on one device; lists are parallel
// (element i of each belongs to parameter i) and have equal numel per index.
// Anything else is refused with a c10::Error naming the list and index.
//
// AMP (optional): `inv_scale` is a 1-element fp32 tensor the gradients are
// multiplied by before use (they are not written back); `found_inf` a
// 1-element fp32 tensor: when non-zero the step changes nothing. Both live on
// the parameters' device, so the GPU path needs no host sync. The caller owns
// the step counters: it must not count a step that found_inf skipped.
#include <ATen/core/Tensor.h>
#include <c10/util/ArrayRef.h>
#include <c10/util/Optional.h>

#include <cstdint>

namespace medtrain::kernels {

struct AdamWStepOptions {
  double lr = 1e-3;
  double beta1 = 0.9;
  double beta2 = 0.999;
  double eps = 1e-8;
  double weight_decay = 1e-2;
};

// steps[i]: parameter i's step count after this step (>= 1), as kept in
// torch::optim::AdamWParamState::step.
void fused_adamw_step(at::TensorList params, at::TensorList grads, at::TensorList exp_avgs,
                      at::TensorList exp_avg_sqs, c10::ArrayRef<int64_t> steps,
                      const AdamWStepOptions& options,
                      const c10::optional<at::Tensor>& inv_scale = c10::nullopt,
                      const c10::optional<at::Tensor>& found_inf = c10::nullopt);

struct SgdStepOptions {
  double lr = 1e-2;
  double momentum = 0.0;
  double dampening = 0.0;
  double weight_decay = 0.0;
  bool nesterov = false;
};

// momentum_buffers: empty when options.momentum == 0, else one per parameter;
// first_step[i] != 0 means buffer i is new and is set to the gradient (its
// content is ignored), as torch::optim::SGD does on a parameter's first step.
void fused_sgd_step(at::TensorList params, at::TensorList grads, at::TensorList momentum_buffers,
                    c10::ArrayRef<uint8_t> first_step, const SgdStepOptions& options,
                    const c10::optional<at::Tensor>& inv_scale = c10::nullopt,
                    const c10::optional<at::Tensor>& found_inf = c10::nullopt);

// grads[i] *= inv_scale in place; found_inf becomes 1 when any result is not
// finite (never reset to 0). Same contract as
// at::_amp_foreach_non_finite_check_and_unscale_.
void multi_tensor_unscale_check_(at::TensorList grads, const at::Tensor& inv_scale,
                                 const at::Tensor& found_inf);

namespace ref {
// The CPU loops (multi_tensor_optim_ref.cpp); same contracts, CPU tensors only.
void adamw_step(at::TensorList params, at::TensorList grads, at::TensorList exp_avgs,
                at::TensorList exp_avg_sqs, c10::ArrayRef<int64_t> steps,
                const AdamWStepOptions& options, const float* inv_scale);
void sgd_step(at::TensorList params, at::TensorList grads, at::TensorList momentum_buffers,
              c10::ArrayRef<uint8_t> first_step, const SgdStepOptions& options,
              const float* inv_scale);
bool unscale_check(at::TensorList grads, float inv_scale);
}  // namespace ref

}  // namespace medtrain::kernels
