#pragma once
// Dynamic loss scaling for fp16 training (the algorithm of torch.amp.GradScaler):
// the loss is multiplied by `scale` before backward; before the optimizer step
// the gradients are unscaled and checked; a non-finite gradient skips the step
// and halves the scale, and `growth_interval` clean steps in a row double it.
// Disabled (scale 1, no checks) for fp32 and bf16.
#include <torch/nn/module.h>
#include <torch/types.h>

#include <cstdint>

namespace medtrain::engine {

class GradScaler {
 public:
  explicit GradScaler(bool enabled, double init_scale = 65536.0, int64_t growth_interval = 2000);
  // CUDA: one multi-tensor kernel unscales and checks every gradient (one host
  // sync per step instead of one per tensor).
  void use_fused_kernel(bool fused) { fused_ = fused; }

  torch::Tensor scale(const torch::Tensor& loss) const;
  // Divides every gradient by the scale in place; returns false when any
  // gradient is inf/NaN (the caller must skip the optimizer step).
  bool unscale_and_check(torch::nn::Module& model);
  // For gradients something else already unscaled (the reducer's fused bucket
  // epilogue): whether `found_inf` (1-element fp32, nonzero on inf/NaN) is
  // clear. One host sync; true when disabled.
  bool check_found_inf(const torch::Tensor& found_inf) const;
  // After the step (or the skip): adjust the scale.
  void update(bool step_was_finite);

  bool enabled() const { return enabled_; }
  // Whether the last update() was for a skipped (non-finite) step.
  bool last_step_skipped() const { return last_skipped_; }
  double current_scale() const { return scale_; }
  void set_scale(double s) { scale_ = s; }

 private:
  bool unscale_fused(torch::nn::Module& model, double inv);
  bool enabled_;
  double scale_;
  int64_t growth_interval_;
  int64_t clean_steps_ = 0;
  bool fused_ = false;
  bool last_skipped_ = false;
};

}  // namespace medtrain::engine
