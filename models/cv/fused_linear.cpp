#include "models/cv/fused_linear.h"

#include <ATen/ATen.h>
#include <c10/core/InferenceMode.h>

#include <optional>
#include <string>

#include "models/cv/onednn_ops.h"

namespace medtrain::models {

FusedLinear::FusedLinear(const at::Tensor& weight, const at::Tensor& bias, const c10::Device& device) {
  c10::InferenceMode guard;
  const auto& o = onednn_ops();
  onednn_ = device.is_cpu() && weight.scalar_type() == at::kFloat && o.linear_reorder && o.linear && o.linear_add;
  weight_ = weight.to(device).contiguous();
  bias_ = bias.to(device).contiguous();
}

FusedLinear::FusedLinear(FusedLinear&& other) noexcept
    : weight_(std::move(other.weight_)),
      bias_(std::move(other.bias_)),
      onednn_(other.onednn_),
      packed_(std::move(other.packed_)) {}

at::Tensor FusedLinear::packed(int64_t rows) const {
  std::lock_guard<std::mutex> lock(mutex_);
  for (const auto& [r, w] : packed_) {
    if (r == rows) return w;
  }
  c10::InferenceMode guard;
  at::Tensor w = call_boxed(*onednn_ops().linear_reorder, {weight_, rows});
  if (packed_.size() == kPackedShapes) packed_.erase(packed_.begin());
  packed_.emplace_back(rows, w);
  return w;
}

at::Tensor FusedLinear::operator()(const at::Tensor& x, bool gelu) const {
  if (!onednn_) {
    at::Tensor y = at::linear(x, weight_, bias_);
    return gelu ? at::gelu(y) : y;
  }
  // "gelu" with algorithm "none" is the exact (erf) GELU, torch's default.
  return call_boxed(*onednn_ops().linear, {x.contiguous(), packed(x.size(0)), bias_,
                                           std::string(gelu ? "gelu" : "none"),
                                           c10::List<std::optional<at::Scalar>>(), std::string("none")});
}

at::Tensor FusedLinear::add(const at::Tensor& x, const at::Tensor& other) const {
  if (!onednn_) return at::linear(x, weight_, bias_).add_(other);
  return call_boxed(*onednn_ops().linear_add,
                    {x.contiguous(), other.contiguous(), packed(x.size(0)), bias_, std::string("add")});
}

}  // namespace medtrain::models
