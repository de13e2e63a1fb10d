#pragma once
// Between a live training state and a checkpoint::Checkpoint: what must be
// saved so that resuming is bit-exact (weights, buffers, optimizer moments and
// step counts, the loss scale, the generator state, the sampler position).
#include <torch/optim/optimizer.h>

#include <string>

#include "models/image_model.h"
#include "trainer/checkpoint/checkpoint.h"
#include "trainer/engine/grad_scaler.h"

namespace medtrain::engine {

struct LiveState {
  models::ImageModel& model;
  torch::optim::Optimizer& optimizer;
  GradScaler& scaler;
  checkpoint::TrainerState& state;
};

checkpoint::Checkpoint capture_checkpoint(const LiveState& live, const std::string& config_yaml);

// Restores everything capture_checkpoint saved. Mismatches (another model,
// another optimizer) are UserErrors naming the checkpoint.
void restore_checkpoint(const LiveState& live, const checkpoint::Checkpoint& ckpt,
                        const std::string& origin);

}  // namespace medtrain::engine
