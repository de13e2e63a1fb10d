#pragma once
// Renames the keys of a foreign state dict to the names our models use:
//   - a prefix shared by every key is dropped, repeatedly: "module." (saved from
//     DataParallel / DistributedDataParallel) and "model." (Lightning and other
//     wrappers), e.g. "module.model.conv1.weight" -> "conv1.weight";
//   - DenseNet's legacy names from torchvision's own ImageNet files,
//     "denselayer1.norm.1.weight" -> "denselayer1.norm1.weight" (the same regex
//     as torchvision.models.densenet._load_state_dict).
// Keys that already fit are left alone, so applying it twice changes nothing.
#include <string>
#include <vector>

#include "models/safetensors.h"

namespace medtrain::models::pretrained {

// Renames in place; appends one line per kind of change made to `notes`.
void normalize_keys(NamedTensors& tensors, std::vector<std::string>& notes);

}  // namespace medtrain::models::pretrained
