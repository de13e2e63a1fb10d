#include "trainer/engine/grad_scaler.h"

#include <torch/torch.h>

#include "kernels/multi_tensor_optim.h"

namespace medtrain::engine {

GradScaler::GradScaler(bool enabled, double init_scale, int64_t growth_interval)
    : enabled_(enabled), scale_(enabled ? init_scale : 1.0), growth_interval_(growth_interval) {}

torch::Tensor GradScaler::scale(const torch::Tensor& loss) const {
  return enabled_ ? loss * scale_ : loss;
}

bool GradScaler::unscale_and_check(torch::nn::Module& model) {
  if (!enabled_) return true;
  torch::NoGradGuard no_grad;
  const double inv = 1.0 / scale_;
  if (fused_) return unscale_fused(model, inv);
  bool finite = true;
  for (auto& p : model.parameters()) {
    if (!p.grad().defined()) continue;
    p.mutable_grad().mul_(inv);
    // One host sync per tensor is fine at our sizes; the fused CUDA epilogue
    // (kernels issue) replaces this loop on GPU.
    if (finite && !torch::isfinite(p.grad()).all().item<bool>()) finite = false;
  }
  return finite;
}

bool GradScaler::check_found_inf(const torch::Tensor& found_inf) const {
  if (!enabled_) return true;
  return found_inf.item<float>() == 0.0f;
}

bool GradScaler::unscale_fused(torch::nn::Module& model, double inv) {
  std::vector<torch::Tensor> grads;
  for (auto& p : model.parameters()) {
    if (p.grad().defined()) grads.push_back(p.grad());
  }
  if (grads.empty()) return true;
  const auto opts = grads.front().options().dtype(torch::kFloat32);
  auto found_inf = torch::zeros({1}, opts);
  kernels::multi_tensor_unscale_check_(grads, torch::full({1}, inv, opts), found_inf);
  return found_inf.item<float>() == 0.0f;
}

void GradScaler::update(bool step_was_finite) {
  last_skipped_ = !step_was_finite;
  if (!enabled_) return;
  if (!step_was_finite) {
    scale_ *= 0.5;
    clean_steps_ = 0;
  } else if (++clean_steps_ >= growth_interval_) {
    scale_ *= 2.0;
    clean_steps_ = 0;
  }
}

}  // namespace medtrain::engine
