#pragma once
// PyTorch's legacy torch.save format (before PyTorch 1.6, or with
// _use_new_zipfile_serialization=False), in which older published weights
// such as torchvision's DenseNet files are stored. Back to back:
//   pickle  magic number 0x1950a86a20f9469cfc6c
//   pickle  protocol version 1001
//   pickle  sys info (ignored)
//   pickle  the object; tensors are persistent ids
//           ('storage', <storage type>, key, location, numel, view)
//   pickle  list of storage keys, in the order their data follows
//   per key int64 element count, then the raw little-endian elements
// Read without running pickled code (pickle_reader.h); every count and length
// is checked against the file. Tensors come back contiguous, CPU, owned.
#include <filesystem>

#include "models/pretrained/pickle_reader.h"

namespace medtrain::models::pretrained {

// True if `bytes` (at least the first 15 of a file) start like this format.
bool is_torch_legacy(const std::string& head);

PickleRef read_torch_legacy(const std::filesystem::path& path);

}  // namespace medtrain::models::pretrained
