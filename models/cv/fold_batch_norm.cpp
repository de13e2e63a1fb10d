#include "models/cv/fold_batch_norm.h"

#include <ATen/ATen.h>
#include <c10/core/InferenceMode.h>
#include <torch/nn/modules/batchnorm.h>

#include <string>

#include "models/model_error.h"

namespace medtrain::models {

namespace {

// scale and shift in float64, where the division and products lose nothing
// that matters before the single rounding at the end.
std::pair<at::Tensor, at::Tensor> affine_f64(const torch::nn::BatchNorm2dImpl& bn) {
  const auto& o = bn.options;
  if (!o.track_running_stats() || !bn.running_mean.defined()) {
    throw ModelError("batch norm without running statistics cannot be folded");
  }
  const at::Tensor var = bn.running_var.to(at::kDouble);
  const at::Tensor mean = bn.running_mean.to(at::kDouble);
  at::Tensor scale = at::rsqrt(var + o.eps());
  at::Tensor shift = -mean * scale;
  if (o.affine()) {
    const at::Tensor gamma = bn.weight.to(at::kDouble);
    shift = shift * gamma + bn.bias.to(at::kDouble);
    scale = scale * gamma;
  }
  return {scale, shift};
}

}  // namespace

ChannelAffine batch_norm_affine(const torch::nn::BatchNorm2dImpl& bn) {
  c10::InferenceMode guard;
  auto [scale, shift] = affine_f64(bn);
  const auto dtype = bn.running_mean.scalar_type();
  return {scale.to(dtype), shift.to(dtype)};
}

FoldedConv fold_batch_norm(const at::Tensor& weight, const std::optional<at::Tensor>& bias,
                           const torch::nn::BatchNorm2dImpl& bn) {
  c10::InferenceMode guard;
  if (bn.options.num_features() != weight.size(0)) {
    throw ModelError("cannot fold a batch norm of " + std::to_string(bn.options.num_features()) +
                     " channels into a convolution with " + std::to_string(weight.size(0)) + " outputs");
  }
  auto [scale, shift] = affine_f64(bn);
  std::vector<int64_t> per_out(weight.dim(), 1);
  per_out[0] = -1;
  const at::Tensor w = weight.to(at::kDouble) * scale.view(per_out);
  at::Tensor b = shift;
  if (bias && bias->defined()) b = b + bias->to(at::kDouble) * scale;
  return {w.to(weight.scalar_type()).contiguous(), b.to(weight.scalar_type())};
}

}  // namespace medtrain::models
