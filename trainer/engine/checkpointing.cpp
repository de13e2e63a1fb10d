#include "trainer/engine/checkpointing.h"

#include <ATen/CPUGeneratorImpl.h>
#include <ATen/Context.h>
#include <torch/version.h>

#include "models/model_error.h"
#include "models/state_dict.h"
#include "trainer/engine/optimizer_factory.h"
#include "trainer/user_error.h"
#include "trainer/version.h"

namespace medtrain::engine {

checkpoint::Checkpoint capture_checkpoint(const LiveState& live, const std::string& config_yaml) {
  checkpoint::Checkpoint ckpt;
  ckpt.model = models::state_dict(live.model);
  ckpt.optimizer = optimizer_state(live.optimizer, live.model);
  ckpt.rng.emplace_back("cpu", at::detail::getDefaultCPUGenerator().get_state());
  ckpt.state = live.state;
  ckpt.state.loss_scale = live.scaler.current_scale();
  ckpt.state.torch_version = TORCH_VERSION;
  ckpt.state.medtrain_version = kVersion;
  ckpt.config_yaml = config_yaml;
  return ckpt;
}

void restore_checkpoint(const LiveState& live, const checkpoint::Checkpoint& ckpt,
                        const std::string& origin) {
  try {
    models::load_state_dict(live.model, ckpt.model, {true, {}, "checkpoint " + origin});
  } catch (const models::ModelError& e) {
    throw UserError(std::string(e.what()) + " (was it written for another model?)");
  }
  try {
    load_optimizer_state(live.optimizer, live.model, ckpt.optimizer);
  } catch (const UserError& e) {
    throw UserError("checkpoint " + origin + ": " + e.what() + " (another optimizer?)");
  }
  for (const auto& [name, value] : ckpt.rng) {
    if (name == "cpu") {
      at::Generator gen = at::detail::getDefaultCPUGenerator();
      gen.set_state(value);
    }
  }
  live.state = ckpt.state;
  live.scaler.set_scale(ckpt.state.loss_scale);
}

}  // namespace medtrain::engine
