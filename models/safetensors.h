#pragma once
// The safetensors format (8-byte little-endian header length, JSON header of
// name -> {dtype, shape, data_offsets} plus optional "__metadata__", then raw
// little-endian tensor bytes). Our own reader and writer: every length and
// offset is bounds-checked; malformed input is a ModelError naming the file and
// the problem, never a crash.
#include <torch/types.h>

#include <filesystem>
#include <map>
#include <string>
#include <utility>
#include <vector>

namespace medtrain::models {

// Ordered, because parameter order is meaningful to readers of a file.
using NamedTensors = std::vector<std::pair<std::string, torch::Tensor>>;

struct SafetensorsFile {
  NamedTensors tensors;                        // in data-offset order, CPU, owned
  std::map<std::string, std::string> metadata; // "__metadata__" (string -> string)
};

// Serializes CPU or CUDA tensors (copied to CPU, made contiguous). Supported
// dtypes: F64 F32 F16 BF16 I64 I32 I16 I8 U8 BOOL. Names must be unique.
std::string safetensors_bytes(const NamedTensors& tensors,
                              const std::map<std::string, std::string>& metadata = {});
void save_safetensors(const std::filesystem::path& path, const NamedTensors& tensors,
                      const std::map<std::string, std::string>& metadata = {});

SafetensorsFile parse_safetensors(const std::string& bytes, const std::string& origin);
SafetensorsFile load_safetensors(const std::filesystem::path& path);

}  // namespace medtrain::models
