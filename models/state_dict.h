#pragma once
// A module's named parameters and buffers as a flat list, and loading such a
// list back by name. Loading is strict: every missing key, unexpected key and
// shape or dtype mismatch is listed in one ModelError, so a user sees the whole
// difference between two architectures at once.
#include <torch/nn/module.h>

#include <string>
#include <vector>

#include "models/safetensors.h"

namespace medtrain::models {

// Parameters (in registration order) followed by buffers, detached, same device.
NamedTensors state_dict(const torch::nn::Module& module);

struct LoadOptions {
  bool strict = true;                   // missing/unexpected keys are errors
  std::vector<std::string> skip_prefixes;  // keys to leave at their init (new heads)
  std::string origin = "state dict";    // named in error messages (a file path)
};

// Copies values into the module's tensors in place (no_grad), keeping their
// device and dtype; shape mismatches are always errors.
void load_state_dict(torch::nn::Module& module, const NamedTensors& tensors,
                     const LoadOptions& options = {});

}  // namespace medtrain::models
