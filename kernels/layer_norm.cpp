// LibTorch-facing fused LayerNorm: checks, dispatch, autograd Function.
#include "kernels/layer_norm.h"

#include <ATen/ATen.h>
#include <c10/util/Exception.h>
#include <torch/autograd.h>

#include <algorithm>

#include "kernels/dtype_dispatch.h"
#include "kernels/layer_norm_cuda.h"

#ifdef MEDTRAIN_WITH_CUDA
#include "kernels/cuda_stream.h"
#endif

namespace medtrain::kernels {
namespace {

constexpr const char* kOp = "layer_norm";

LayerNormArgs check(const at::Tensor& x, const at::Tensor& gamma, const at::Tensor& beta, double eps) {
  TORCH_CHECK(x.defined() && gamma.defined() && beta.defined(), kOp, ": x, gamma and beta are required");
  const DType dt = detail::dtype_tag(x, kOp, "x");
  TORCH_CHECK(x.dim() >= 1 && x.size(-1) > 0 && x.is_contiguous(), kOp,
              ": x must be a contiguous [..., D] tensor with D > 0, got sizes ", x.sizes(), " strides ",
              x.strides(), "; pass x.contiguous()");
  for (const auto* p : {&gamma, &beta}) {
    const char* name = p == &gamma ? "gamma" : "beta";
    TORCH_CHECK(p->dim() == 1 && p->size(0) == x.size(-1) && p->is_contiguous(), kOp, ": ", name, " must be [",
                x.size(-1), "], got ", p->sizes());
    TORCH_CHECK(p->scalar_type() == x.scalar_type() && p->device() == x.device(), kOp, ": ", name,
                " must have x's dtype and device (", x.scalar_type(), ", ", x.device(), "), got ",
                p->scalar_type(), ", ", p->device());
  }
  TORCH_CHECK(eps > 0, kOp, ": eps must be > 0, got ", eps);
  const int64_t d = x.size(-1);
  return {dt, x.numel() / d, d, static_cast<float>(eps)};
}

c10::ScalarType stat_type(DType dt) { return dt == DType::kF64 ? c10::kDouble : c10::kFloat; }

[[noreturn]] void no_cuda() {
  TORCH_CHECK(false, kOp, ": got CUDA tensors but medtrain was built without CUDA (MEDTRAIN_CUDA=OFF)");
}

struct LayerNormFn : public torch::autograd::Function<LayerNormFn> {
  static at::Tensor forward(torch::autograd::AutogradContext* ctx, const at::Tensor& x, const at::Tensor& gamma,
                            const at::Tensor& beta, double eps) {
    auto [y, mean, rstd] = layer_norm_forward(x, gamma, beta, eps);
    ctx->save_for_backward({x, gamma, mean, rstd});
    return y;
  }
  static torch::autograd::variable_list backward(torch::autograd::AutogradContext* ctx,
                                                 torch::autograd::variable_list grad_out) {
    const auto s = ctx->get_saved_variables();
    auto [dx, dgamma, dbeta] = layer_norm_backward(grad_out[0].contiguous(), s[0], s[2], s[3], s[1]);
    return {dx, dgamma, dbeta, at::Tensor()};
  }
};

}  // namespace

std::tuple<at::Tensor, at::Tensor, at::Tensor> layer_norm_forward(const at::Tensor& x, const at::Tensor& gamma,
                                                                  const at::Tensor& beta, double eps) {
  const LayerNormArgs a = check(x, gamma, beta, eps);
  at::Tensor y = at::empty_like(x, at::MemoryFormat::Contiguous);
  at::Tensor mean = at::empty({a.rows}, x.options().dtype(stat_type(a.dt)));
  at::Tensor rstd = at::empty_like(mean);
  if (x.device().is_cpu()) {
    ref::layer_norm_forward(x.data_ptr(), gamma.data_ptr(), beta.data_ptr(), y.data_ptr(), mean.data_ptr(),
                            rstd.data_ptr(), a);
    return {y, mean, rstd};
  }
  TORCH_CHECK(x.is_cuda(), kOp, ": unsupported device ", x.device());
#ifdef MEDTRAIN_WITH_CUDA
  c10::cuda::CUDAGuard guard(x.device());
  cuda::layer_norm_forward(x.data_ptr(), gamma.data_ptr(), beta.data_ptr(), y.data_ptr(), mean.data_ptr<float>(),
                           rstd.data_ptr<float>(), a, detail::current_stream_for(x));
#else
  no_cuda();
#endif
  return {y, mean, rstd};
}

std::tuple<at::Tensor, at::Tensor, at::Tensor> layer_norm_backward(const at::Tensor& dy, const at::Tensor& x,
                                                                   const at::Tensor& mean, const at::Tensor& rstd,
                                                                   const at::Tensor& gamma) {
  const LayerNormArgs a = check(x, gamma, gamma, 1.0);
  TORCH_CHECK(dy.defined() && dy.sizes() == x.sizes() && dy.scalar_type() == x.scalar_type() &&
                  dy.device() == x.device() && dy.is_contiguous(),
              kOp, ": dy must be contiguous and match x (", x.sizes(), ", ", x.scalar_type(), ")");
  TORCH_CHECK(mean.numel() == a.rows && rstd.numel() == a.rows && mean.scalar_type() == stat_type(a.dt) &&
                  rstd.scalar_type() == stat_type(a.dt),
              kOp, ": mean and rstd must be the [", a.rows, "] statistics layer_norm_forward returned");
  at::Tensor dx = at::empty_like(x, at::MemoryFormat::Contiguous);
  const auto stat_opts = x.options().dtype(stat_type(a.dt));
  if (x.device().is_cpu()) {
    at::Tensor dgamma = at::empty({a.d}, stat_opts), dbeta = at::empty({a.d}, stat_opts);
    ref::layer_norm_backward(dy.data_ptr(), x.data_ptr(), mean.data_ptr(), rstd.data_ptr(), gamma.data_ptr(),
                             dx.data_ptr(), dgamma.data_ptr(), dbeta.data_ptr(), a);
    return {dx, dgamma.to(x.scalar_type()), dbeta.to(x.scalar_type())};
  }
  TORCH_CHECK(x.is_cuda(), kOp, ": unsupported device ", x.device());
#ifdef MEDTRAIN_WITH_CUDA
  c10::cuda::CUDAGuard guard(x.device());
  // enough row chunks to fill the GPU with column threads, each chunk >= 32 rows
  const int64_t chunks = std::max<int64_t>(1, std::min<int64_t>(256, a.rows / 32));
  at::Tensor dgamma_part = at::zeros({chunks, a.d}, stat_opts), dbeta_part = at::zeros({chunks, a.d}, stat_opts);
  cuda::layer_norm_backward(dy.data_ptr(), x.data_ptr(), mean.data_ptr<float>(), rstd.data_ptr<float>(),
                            gamma.data_ptr(), dx.data_ptr(), dgamma_part.data_ptr<float>(),
                            dbeta_part.data_ptr<float>(), chunks, a, detail::current_stream_for(x));
  return {dx, dgamma_part.sum(0).to(x.scalar_type()), dbeta_part.sum(0).to(x.scalar_type())};
#else
  no_cuda();
#endif
}

at::Tensor layer_norm(const at::Tensor& x, const at::Tensor& gamma, const at::Tensor& beta, double eps) {
  return LayerNormFn::apply(x, gamma, beta, eps);
}

}  // namespace medtrain::kernels
