#pragma once
// Builds the optimizer named in the config (AdamW or SGD), sets its
// learning rate each step, and moves its per-parameter state in and out of a
// checkpoint by parameter *name*, so a checkpoint does not depend on tensor
// addresses and resumes bit for bit.
#include <torch/nn/module.h>
#include <torch/optim/optimizer.h>

#include <memory>

#include "models/safetensors.h"
#include "trainer/config/config.h"

namespace medtrain::engine {

// fused: the multi-tensor kernels::FusedAdamW / FusedSGD (same options, state
// and checkpoints as LibTorch's; worth it on CUDA, where the trainer asks for it).
std::unique_ptr<torch::optim::Optimizer> make_optimizer(const config::OptimConfig& cfg,
                                                        torch::nn::Module& model, bool fused = false);

void set_learning_rate(torch::optim::Optimizer& optimizer, double lr);

// State tensors named "<param>.<field>" (exp_avg, exp_avg_sq, step for AdamW;
// momentum_buffer for SGD). Parameters without state yet are left out.
models::NamedTensors optimizer_state(const torch::optim::Optimizer& optimizer,
                                     const torch::nn::Module& model);

// Inverse of optimizer_state. A state entry naming no parameter, or of the
// wrong shape, is a CheckpointError-style UserError naming it.
void load_optimizer_state(torch::optim::Optimizer& optimizer, const torch::nn::Module& model,
                          const models::NamedTensors& state);

}  // namespace medtrain::engine
