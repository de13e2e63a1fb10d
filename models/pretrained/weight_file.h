#pragma once
// Reads a file of pretrained weights, whatever its format, as named tensors:
//   - PyTorch zip (torch.save(model.state_dict(), "x.pth"), .pt/.pth/.bin/.ckpt),
//     recognised by its zip signature; see torch_zip_reader.h;
//   - PyTorch legacy (torch.save before 1.6), recognised by its magic number;
//     see torch_legacy_reader.h;
//   - safetensors (Hugging Face, medtrain's own checkpoints' model.safetensors),
//     recognised as anything else; see models/safetensors.h.
// The format is detected from the bytes, not the extension. A checkpoint
// folder is resolved to its weights file by the trainer, not here (models/
// knows nothing of checkpoint layout).
#include <filesystem>
#include <string>
#include <vector>

#include "models/safetensors.h"

namespace medtrain::models::pretrained {

struct WeightFile {
  NamedTensors tensors;            // CPU, contiguous, in the file's order
  std::string format;              // "PyTorch zip" | "PyTorch legacy" | "safetensors"
  std::vector<std::string> notes;  // what was done to read it (e.g. a top-level key taken)
};

// ModelError naming the path for: a missing file, a directory, and anything
// malformed.
WeightFile read_weight_file(const std::filesystem::path& path);

}  // namespace medtrain::models::pretrained
