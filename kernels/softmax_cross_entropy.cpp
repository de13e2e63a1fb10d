// LibTorch-facing fused cross-entropy: checks, the per-row kernel (or its CPU
// reference), the mean over kept rows, and the autograd Function around it.
#include "kernels/softmax_cross_entropy.h"

#include <ATen/ATen.h>
#include <c10/util/Exception.h>
#include <torch/autograd.h>

#include "kernels/softmax_cross_entropy_cuda.h"

#ifdef MEDTRAIN_WITH_CUDA
#include "kernels/cuda_stream.h"
#endif

namespace medtrain::kernels {
namespace {

constexpr const char* kOp = "softmax_cross_entropy";

void check_args(const at::Tensor& logits, const at::Tensor& target, const CrossEntropyOptions& o) {
  TORCH_CHECK(logits.defined() && target.defined(), kOp, ": logits and target are required");
  TORCH_CHECK(logits.dim() == 2, kOp, ": logits must be [N, V], got sizes ", logits.sizes(),
              "; flatten leading dimensions first (logits.flatten(0, -2))");
  TORCH_CHECK(logits.scalar_type() == c10::kFloat || logits.scalar_type() == c10::kBFloat16, kOp,
              ": logits must be float32 or bfloat16, got ", logits.scalar_type());
  TORCH_CHECK(logits.is_contiguous(), kOp, ": logits is not contiguous (strides ", logits.strides(),
              "); pass logits.contiguous()");
  TORCH_CHECK(logits.size(1) > 0, kOp, ": logits has no classes (V = 0)");
  TORCH_CHECK(target.scalar_type() == c10::kLong && target.dim() == 1 && target.size(0) == logits.size(0),
              kOp, ": target must be int64 [", logits.size(0), "], got ", target.scalar_type(), " ",
              target.sizes());
  TORCH_CHECK(target.device() == logits.device(), kOp, ": target is on ", target.device(),
              " but logits on ", logits.device());
  TORCH_CHECK(o.label_smoothing >= 0 && o.label_smoothing <= 1, kOp,
              ": label_smoothing must be in [0, 1], got ", o.label_smoothing);
  if (logits.device().is_cpu()) {  // exact check where it costs no device sync
    const auto ok = ((target >= 0) & (target < logits.size(1))) | (target == o.ignore_index);
    TORCH_CHECK(ok.all().item<bool>(), kOp, ": target values must be in [0, ", logits.size(1),
                ") or equal ignore_index (", o.ignore_index, ")");
  }
}

struct CrossEntropyFn : public torch::autograd::Function<CrossEntropyFn> {
  static at::Tensor forward(torch::autograd::AutogradContext* ctx, const at::Tensor& logits,
                            const at::Tensor& target, int64_t ignore_index, double smoothing) {
    auto [loss, grad] = softmax_cross_entropy_forward(logits, target, {ignore_index, smoothing}, true);
    ctx->save_for_backward({grad});
    return loss;
  }
  static torch::autograd::variable_list backward(torch::autograd::AutogradContext* ctx,
                                                 torch::autograd::variable_list grad_out) {
    at::Tensor grad = ctx->get_saved_variables()[0];
    grad.mul_(grad_out[0].to(grad.scalar_type()));  // in place: see the header (one backward)
    return {grad, at::Tensor(), at::Tensor(), at::Tensor()};
  }
};

}  // namespace

std::pair<at::Tensor, at::Tensor> softmax_cross_entropy_forward(const at::Tensor& logits,
                                                                const at::Tensor& target,
                                                                const CrossEntropyOptions& o,
                                                                bool want_grad) {
  check_args(logits, target, o);
  const at::Tensor count = (target != o.ignore_index).sum().to(c10::kFloat);
  const at::Tensor inv_count = count.reciprocal();
  at::Tensor row_loss = at::empty({logits.size(0)}, logits.options().dtype(c10::kFloat));
  at::Tensor grad = want_grad ? at::empty_like(logits) : at::Tensor();
  const at::Tensor target_c = target.contiguous();
  CrossEntropyRows a{logits.data_ptr(), logits.scalar_type() == c10::kBFloat16,
                     target_c.data_ptr<int64_t>(), logits.size(0), logits.size(1), o.ignore_index,
                     static_cast<float>(o.label_smoothing), inv_count.data_ptr<float>(),
                     row_loss.data_ptr<float>(), want_grad ? grad.data_ptr() : nullptr};
  if (logits.device().is_cpu()) {
    ref::softmax_cross_entropy_rows(a);
  } else {
    TORCH_CHECK(logits.is_cuda(), kOp, ": unsupported device ", logits.device());
#ifdef MEDTRAIN_WITH_CUDA
    c10::cuda::CUDAGuard guard(logits.device());
    cuda::softmax_cross_entropy_rows(a, detail::current_stream_for(logits));
#else
    TORCH_CHECK(false, kOp, ": got CUDA tensors but medtrain was built without CUDA (MEDTRAIN_CUDA=OFF)");
#endif
  }
  return {row_loss.sum() / count, grad};
}

at::Tensor softmax_cross_entropy(const at::Tensor& logits, const at::Tensor& target,
                                 const CrossEntropyOptions& o) {
  if (!logits.requires_grad() || !at::GradMode::is_enabled()) {
    return softmax_cross_entropy_forward(logits, target, o, false).first;
  }
  return CrossEntropyFn::apply(logits, target, o.ignore_index, o.label_smoothing);
}

}  // namespace medtrain::kernels
