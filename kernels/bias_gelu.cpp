// LibTorch-facing fused bias + GELU: checks, dispatch, autograd Function.
#include "kernels/bias_gelu.h"

#include <ATen/ATen.h>
#include <c10/util/Exception.h>
#include <torch/autograd.h>

#include "kernels/bias_gelu_cuda.h"
#include "kernels/dtype_dispatch.h"

#ifdef MEDTRAIN_WITH_CUDA
#include "kernels/cuda_stream.h"
#endif

namespace medtrain::kernels {
namespace {

constexpr const char* kOp = "bias_gelu";

DType check(const at::Tensor& x, const at::Tensor& bias) {
  TORCH_CHECK(x.defined() && bias.defined(), kOp, ": x and bias are required");
  const DType dt = detail::dtype_tag(x, kOp, "x");
  TORCH_CHECK(x.dim() >= 1 && x.is_contiguous(), kOp, ": x must be a contiguous [..., D] tensor, got sizes ",
              x.sizes(), " strides ", x.strides(), "; pass x.contiguous()");
  TORCH_CHECK(bias.dim() == 1 && bias.size(0) == x.size(-1), kOp, ": bias must be [", x.size(-1), "], got ",
              bias.sizes());
  TORCH_CHECK(bias.scalar_type() == x.scalar_type() && bias.device() == x.device(), kOp,
              ": bias must have x's dtype and device (", x.scalar_type(), ", ", x.device(), "), got ",
              bias.scalar_type(), ", ", bias.device());
  return dt;
}

struct BiasGeluFn : public torch::autograd::Function<BiasGeluFn> {
  static at::Tensor forward(torch::autograd::AutogradContext* ctx, const at::Tensor& x,
                            const at::Tensor& bias, bool tanh_approx) {
    ctx->save_for_backward({x, bias});
    ctx->saved_data["tanh"] = tanh_approx;
    return bias_gelu_forward(x, bias, tanh_approx);
  }
  static torch::autograd::variable_list backward(torch::autograd::AutogradContext* ctx,
                                                 torch::autograd::variable_list grad_out) {
    const auto saved = ctx->get_saved_variables();
    auto [dx, db] = bias_gelu_backward(grad_out[0].contiguous(), saved[0], saved[1],
                                       ctx->saved_data["tanh"].toBool());
    return {dx, db, at::Tensor()};
  }
};

}  // namespace

at::Tensor bias_gelu_forward(const at::Tensor& x, const at::Tensor& bias, bool tanh_approx) {
  const DType dt = check(x, bias);
  at::Tensor y = at::empty_like(x, at::MemoryFormat::Contiguous);
  const int64_t d = x.size(-1), rows = d ? x.numel() / d : 0;
  if (x.device().is_cpu()) {
    ref::bias_gelu_forward(x.data_ptr(), bias.data_ptr(), y.data_ptr(), dt, rows, d, tanh_approx);
    return y;
  }
  TORCH_CHECK(x.is_cuda(), kOp, ": unsupported device ", x.device());
#ifdef MEDTRAIN_WITH_CUDA
  c10::cuda::CUDAGuard guard(x.device());
  cuda::bias_gelu_forward(x.data_ptr(), bias.data_ptr(), y.data_ptr(), dt, rows, d, tanh_approx,
                          detail::current_stream_for(x));
#else
  TORCH_CHECK(false, kOp, ": got CUDA tensors but medtrain was built without CUDA (MEDTRAIN_CUDA=OFF)");
#endif
  return y;
}

std::pair<at::Tensor, at::Tensor> bias_gelu_backward(const at::Tensor& dy, const at::Tensor& x,
                                                     const at::Tensor& bias, bool tanh_approx) {
  const DType dt = check(x, bias);
  TORCH_CHECK(dy.defined() && dy.sizes() == x.sizes() && dy.scalar_type() == x.scalar_type() &&
                  dy.device() == x.device() && dy.is_contiguous(),
              kOp, ": dy must be contiguous and match x (", x.sizes(), ", ", x.scalar_type(), ")");
  at::Tensor dx = at::empty_like(x, at::MemoryFormat::Contiguous);
  const int64_t d = x.size(-1), rows = d ? x.numel() / d : 0;
  if (x.device().is_cpu()) {
    ref::bias_gelu_backward(dy.data_ptr(), x.data_ptr(), bias.data_ptr(), dx.data_ptr(), dt, rows, d,
                            tanh_approx);
  } else {
    TORCH_CHECK(x.is_cuda(), kOp, ": unsupported device ", x.device());
#ifdef MEDTRAIN_WITH_CUDA
    c10::cuda::CUDAGuard guard(x.device());
    cuda::bias_gelu_backward(dy.data_ptr(), x.data_ptr(), bias.data_ptr(), dx.data_ptr(), dt, rows, d,
                             tanh_approx, detail::current_stream_for(x));
#else
    TORCH_CHECK(false, kOp, ": got CUDA tensors but medtrain was built without CUDA (MEDTRAIN_CUDA=OFF)");
#endif
  }
  // fp32 accumulation for the bias gradient, whatever the storage dtype
  at::Tensor db = dx.reshape({rows, d}).sum(0, false, dt == DType::kF64 ? c10::kDouble : c10::kFloat);
  return {dx, db.to(x.scalar_type())};
}

at::Tensor bias_gelu(const at::Tensor& x, const at::Tensor& bias, bool tanh_approx) {
  return BiasGeluFn::apply(x, bias, tanh_approx);
}

}  // namespace medtrain::kernels
