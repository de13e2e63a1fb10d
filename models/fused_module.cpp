#include "models/fused_module.h"

#include <torch/nn/functional/activation.h>
#include <torch/nn/functional/linear.h>

#include "kernels/bias_gelu.h"
#include "kernels/layer_norm.h"

namespace medtrain::models {
namespace {

namespace F = torch::nn::functional;

torch::Tensor gelu(const torch::Tensor& x, bool tanh_approx) {
  return F::gelu(x, F::GELUFuncOptions().approximate(tanh_approx ? "tanh" : "none"));
}

}  // namespace

void set_fused_kernels(torch::nn::Module& root, bool on) {
  if (auto* self = dynamic_cast<FusedModule*>(&root)) self->set_fused_kernels(on);
  for (const auto& m : root.modules(/*include_self=*/false)) {
    if (auto* fused = dynamic_cast<FusedModule*>(m.get())) fused->set_fused_kernels(on);
  }
}

torch::Tensor layer_norm(torch::nn::LayerNorm& norm, const torch::Tensor& x, bool fused) {
  if (!fused) return norm(x);
  const auto& weight = norm->weight;
  return kernels::layer_norm(x.to(weight.scalar_type()).contiguous(), weight, norm->bias, norm->options.eps());
}

torch::Tensor linear_gelu(torch::nn::Linear& fc, const torch::Tensor& x, bool tanh_approx, bool fused) {
  if (!fused) return gelu(fc(x), tanh_approx);
  const auto h = F::linear(x, fc->weight);
  const auto bias = fc->bias.to(h.scalar_type());
  if (h.scalar_type() == torch::kHalf) return gelu(h + bias, tanh_approx);
  return kernels::bias_gelu(h.contiguous(), bias, tanh_approx);
}

}  // namespace medtrain::models
