#pragma once
// What must agree across ranks before the first step. A rank with another
// model or another config would otherwise issue different collectives and
// hang the job; here every rank learns about the mismatch and stops with the
// same error. Then rank 0's parameters and buffers are copied to everyone.
#include <torch/nn/module.h>

#include <string>

#include "trainer/dist/communicator.h"

namespace medtrain::dist {

// Throws UserError naming the first rank whose parameter names/shapes/dtypes
// or resolved config differ from rank 0's.
void check_ranks_agree(Communicator& comm, const torch::nn::Module& model, const std::string& config_yaml);

// Broadcasts every parameter and buffer from rank 0 (in place, any layout).
void broadcast_model(Communicator& comm, torch::nn::Module& model);

// Buffers only (batch-norm running statistics drift apart per rank, as in
// PyTorch DDP): before evaluating or checkpointing, all ranks take rank 0's.
void broadcast_buffers(Communicator& comm, torch::nn::Module& model);

}  // namespace medtrain::dist
