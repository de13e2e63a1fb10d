#include "trainer/engine/finite_checks.h"

#include <fmt/format.h>
#include <torch/torch.h>

namespace medtrain::engine {

std::string non_finite_loss_message(int64_t step, const std::optional<std::filesystem::path>& last_checkpoint) {
  return fmt::format("step {}: the loss is not finite (NaN or inf); the run stopped without a checkpoint of this "
                     "step (last good checkpoint: {}). Lower optim.lr, set optim.grad_clip_norm, or check the data "
                     "and data.mean/std",
                     step, last_checkpoint ? last_checkpoint->string() : std::string("none"));
}

bool all_finite(torch::nn::Module& model) {
  torch::NoGradGuard no_grad;
  for (const auto& t : model.parameters()) {
    if (t.is_floating_point() && !torch::isfinite(t).all().item<bool>()) return false;
  }
  for (const auto& t : model.buffers()) {
    if (t.is_floating_point() && !torch::isfinite(t).all().item<bool>()) return false;
  }
  return true;
}

}  // namespace medtrain::engine
