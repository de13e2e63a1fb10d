// LibTorch-facing multi-tensor optimizer ops: argument checks, then the CUDA
// launchers (multi_tensor_optim.cu) or the CPU reference loops.
#include "kernels/multi_tensor_optim.h"

#include <c10/util/Exception.h>

#include <cmath>
#include <vector>

#include "kernels/tensor_checks.h"

#ifdef MEDTRAIN_WITH_CUDA
#include "kernels/cuda_stream.h"
#include "kernels/multi_tensor_optim_cuda.h"
#endif

namespace medtrain::kernels {
namespace {

using detail::check_list;
using detail::check_scalar_tensor;

// Checks the AMP tensors; on the CPU, found_inf decides here whether to run.
bool amp_skip_on_cpu(const char* op, const c10::Device& device,
                     const c10::optional<at::Tensor>& inv_scale,
                     const c10::optional<at::Tensor>& found_inf) {
  if (inv_scale) check_scalar_tensor(*inv_scale, op, "inv_scale", device);
  if (found_inf) check_scalar_tensor(*found_inf, op, "found_inf", device);
  return device.is_cpu() && found_inf && found_inf->item<float>() != 0.f;
}

const float* cpu_scale(const c10::optional<at::Tensor>& inv_scale) {
  return inv_scale ? inv_scale->data_ptr<float>() : nullptr;
}

[[noreturn]] void no_cuda(const char* op) {
  TORCH_CHECK(false, op, ": got CUDA tensors but medtrain was built without CUDA (MEDTRAIN_CUDA=OFF)");
}

}  // namespace

void fused_adamw_step(at::TensorList params, at::TensorList grads, at::TensorList exp_avgs,
                      at::TensorList exp_avg_sqs, c10::ArrayRef<int64_t> steps,
                      const AdamWStepOptions& o, const c10::optional<at::Tensor>& inv_scale,
                      const c10::optional<at::Tensor>& found_inf) {
  constexpr const char* kOp = "fused_adamw_step";
  if (params.empty()) return;
  const c10::Device device = params[0].device();
  const size_t n = params.size();
  check_list(params, kOp, "params", n, c10::kFloat, device, params);
  check_list(grads, kOp, "grads", n, c10::kFloat, device, params);
  check_list(exp_avgs, kOp, "exp_avgs", n, c10::kFloat, device, params);
  check_list(exp_avg_sqs, kOp, "exp_avg_sqs", n, c10::kFloat, device, params);
  TORCH_CHECK(steps.size() == n, kOp, ": steps has ", steps.size(), " entries, expected ", n);
  for (size_t i = 0; i < n; ++i) TORCH_CHECK(steps[i] >= 1, kOp, ": steps[", i, "] must be >= 1");
  if (amp_skip_on_cpu(kOp, device, inv_scale, found_inf)) return;
  if (device.is_cpu()) return ref::adamw_step(params, grads, exp_avgs, exp_avg_sqs, steps, o, cpu_scale(inv_scale));
  TORCH_CHECK(device.is_cuda(), kOp, ": unsupported device ", device);
#ifdef MEDTRAIN_WITH_CUDA
  std::vector<cuda::TensorSlot> slots(n);
  for (size_t i = 0; i < n; ++i) {
    const double bc1 = 1 - std::pow(o.beta1, static_cast<double>(steps[i]));
    const double bc2 = 1 - std::pow(o.beta2, static_cast<double>(steps[i]));
    slots[i] = {{params[i].data_ptr(), grads[i].data_ptr(), exp_avgs[i].data_ptr(), exp_avg_sqs[i].data_ptr()},
                params[i].numel(), static_cast<float>(-(o.lr / bc1)), static_cast<float>(std::sqrt(bc2))};
  }
  const cuda::AdamWHyper h{static_cast<float>(o.beta1), static_cast<float>(1 - o.beta1),
                           static_cast<float>(o.beta2), static_cast<float>(1 - o.beta2),
                           static_cast<float>(o.eps), static_cast<float>(1 - o.lr * o.weight_decay),
                           o.weight_decay != 0};
  c10::cuda::CUDAGuard guard(device);
  cuda::adamw_multi_tensor(slots.data(), static_cast<int64_t>(n), h,
                           inv_scale ? inv_scale->data_ptr<float>() : nullptr,
                           found_inf ? found_inf->data_ptr<float>() : nullptr,
                           detail::current_stream_for(params[0]));
#else
  no_cuda(kOp);
#endif
}

void fused_sgd_step(at::TensorList params, at::TensorList grads, at::TensorList momentum_buffers,
                    c10::ArrayRef<uint8_t> first_step, const SgdStepOptions& o,
                    const c10::optional<at::Tensor>& inv_scale,
                    const c10::optional<at::Tensor>& found_inf) {
  constexpr const char* kOp = "fused_sgd_step";
  if (params.empty()) return;
  const c10::Device device = params[0].device();
  const size_t n = params.size();
  const bool has_momentum = o.momentum != 0;
  check_list(params, kOp, "params", n, c10::kFloat, device, params);
  check_list(grads, kOp, "grads", n, c10::kFloat, device, params);
  if (has_momentum) {
    check_list(momentum_buffers, kOp, "momentum_buffers", n, c10::kFloat, device, params);
    TORCH_CHECK(first_step.size() == n, kOp, ": first_step has ", first_step.size(), " entries, expected ", n);
  }
  TORCH_CHECK(!o.nesterov || (has_momentum && o.dampening == 0), kOp,
              ": nesterov momentum requires a momentum and zero dampening");
  if (amp_skip_on_cpu(kOp, device, inv_scale, found_inf)) return;
  if (device.is_cpu()) return ref::sgd_step(params, grads, momentum_buffers, first_step, o, cpu_scale(inv_scale));
  TORCH_CHECK(device.is_cuda(), kOp, ": unsupported device ", device);
#ifdef MEDTRAIN_WITH_CUDA
  std::vector<cuda::TensorSlot> slots(n);
  for (size_t i = 0; i < n; ++i) {
    slots[i] = {{params[i].data_ptr(), grads[i].data_ptr(),
                 has_momentum ? momentum_buffers[i].data_ptr() : nullptr, nullptr},
                params[i].numel(), has_momentum && first_step[i] ? 1.f : 0.f, 0.f};
  }
  const cuda::SgdHyper h{static_cast<float>(o.momentum), static_cast<float>(1 - o.dampening),
                         static_cast<float>(o.weight_decay), static_cast<float>(-1 * o.lr),
                         o.nesterov, has_momentum};
  c10::cuda::CUDAGuard guard(device);
  cuda::sgd_multi_tensor(slots.data(), static_cast<int64_t>(n), h,
                         inv_scale ? inv_scale->data_ptr<float>() : nullptr,
                         found_inf ? found_inf->data_ptr<float>() : nullptr,
                         detail::current_stream_for(params[0]));
#else
  no_cuda(kOp);
#endif
}

void multi_tensor_unscale_check_(at::TensorList grads, const at::Tensor& inv_scale,
                                 const at::Tensor& found_inf) {
  constexpr const char* kOp = "multi_tensor_unscale_check_";
  if (grads.empty()) return;
  const c10::Device device = grads[0].device();
  check_list(grads, kOp, "grads", grads.size(), c10::kFloat, device, grads);
  check_scalar_tensor(inv_scale, kOp, "inv_scale", device);
  check_scalar_tensor(found_inf, kOp, "found_inf", device);
  if (device.is_cpu()) {
    if (ref::unscale_check(grads, inv_scale.item<float>())) found_inf.fill_(1.f);
    return;
  }
  TORCH_CHECK(device.is_cuda(), kOp, ": unsupported device ", device);
#ifdef MEDTRAIN_WITH_CUDA
  std::vector<cuda::TensorSlot> slots(grads.size());
  for (size_t i = 0; i < grads.size(); ++i) slots[i] = {{grads[i].data_ptr()}, grads[i].numel(), 0.f, 0.f};
  c10::cuda::CUDAGuard guard(device);
  cuda::unscale_check_multi_tensor(slots.data(), static_cast<int64_t>(slots.size()),
                                   inv_scale.data_ptr<float>(), found_inf.data_ptr<float>(),
                                   detail::current_stream_for(grads[0]));
#else
  no_cuda(kOp);
#endif
}

}  // namespace medtrain::kernels
