#pragma once
// PyTorch's zip checkpoint format (torch.save since PyTorch 1.6): a zip with
// <archive>/data.pkl (a pickle whose tensors are persistent ids naming
// storages), <archive>/data/<key> (raw little-endian storage bytes) and
// <archive>/.data/byteorder. Read without running any pickled code (see
// pickle_reader.h); tensors come back contiguous, on the CPU, owned.
#include <filesystem>
#include <string>

#include "models/pretrained/pickle_reader.h"
#include "models/safetensors.h"

namespace medtrain::models::pretrained {

// The top-level object of the file. ModelError for a file that is not a
// readable PyTorch zip (naming the file and what is wrong).
PickleRef read_torch_zip(const std::filesystem::path& path);

// The tensors of a state dict: the top-level dict itself, or the dict under a
// top-level "state_dict" / "model_state_dict" / "model" key (training
// checkpoints). `note` receives which was used. ModelError naming the keys
// whose values are not tensors.
NamedTensors tensors_of_state_dict(const PickleRef& root, const std::string& origin, std::string* note);

}  // namespace medtrain::models::pretrained
