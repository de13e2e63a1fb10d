#pragma once
// Note [Non-finite is an error]: a NaN loss used to train on, writing NaN
// checkpoints and `latest`, and exit 0. The loop stops on a non-finite loss and
// checks the weights before every checkpoint; these are its two helpers.
#include <torch/nn/module.h>

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>

namespace medtrain::engine {

// The one-line message for a non-finite loss at `step`: what happened, the last
// good checkpoint, and what to change.
std::string non_finite_loss_message(int64_t step, const std::optional<std::filesystem::path>& last_checkpoint);

// True when every floating-point parameter and buffer of `model` is finite
// (one host sync per tensor: called per checkpoint, not per step).
bool all_finite(torch::nn::Module& model);

}  // namespace medtrain::engine
