#pragma once
// model.pretrained: initialise a freshly built model from public or earlier
// weights. Call after construction, on the CPU, before the weights are
// broadcast from rank 0. The steps, in order:
//   1. read the file (weight_file.h: PyTorch zip or safetensors);
//   2. normalise the names (key_mapping.h: "module."/"model." prefixes,
//      DenseNet legacy names);
//   3. drop `skip` prefixes on both sides (a new head keeps its fresh init);
//   4. fit a 3-channel stem to a 1-channel model (input_adaptation.h);
//   5. cast dtypes the model can take, reject those it cannot;
//   6. load strictly: every missing and unexpected key and shape mismatch in
//      one ModelError (models/state_dict.h).
// Libraries do not print: what was done comes back as notes for the caller
// to log once.
#include <torch/nn/module.h>

#include <cstddef>
#include <filesystem>
#include <string>
#include <vector>

#include "models/safetensors.h"

namespace medtrain::models::pretrained {

struct PretrainedOptions {
  // "fc" skips fc.weight and fc.bias (a name or a dotted prefix of names);
  // "fc." too.
  std::vector<std::string> skip;
};

struct PretrainedReport {
  std::string format;              // "PyTorch zip" | "safetensors" | "tensors"
  size_t loaded = 0;               // tensors copied into the model
  size_t skipped = 0;              // model tensors left at their init
  std::vector<std::string> notes;  // renames, channel sums, casts: one line each
};

PretrainedReport load_pretrained(torch::nn::Module& model, const std::filesystem::path& path,
                                 const PretrainedOptions& options = {});

// Steps 2-6 on tensors already in memory; `origin` names them in errors.
PretrainedReport apply_pretrained(torch::nn::Module& model, NamedTensors tensors, const std::string& origin,
                                  const PretrainedOptions& options = {});

}  // namespace medtrain::models::pretrained
