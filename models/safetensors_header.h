#pragma once
// The byte side of the safetensors reader (safetensors.h): the 8-byte header
// length, the JSON header and every layout rule, checked on plain bytes with
// plain types. safetensors.cpp turns the entries into tensors; keeping this
// part free of LibTorch lets the fuzzer (tests/fuzz/safetensors_fuzz.cpp)
// instrument exactly the code that judges untrusted bytes.
#include <cstddef>
#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <vector>

namespace medtrain::models {

struct SafetensorsDtype {
  const char* name;   // "F32", "BOOL", ...
  uint64_t itemsize;  // bytes per element
};

// The dtypes our reader and writer support; nullptr for any other name.
const SafetensorsDtype* safetensors_dtype(std::string_view name);
std::string safetensors_dtype_list();  // "F64 F32 ... BOOL", for messages

struct SafetensorsEntry {
  std::string name;
  const SafetensorsDtype* dtype = nullptr;  // never null after parsing
  std::vector<int64_t> shape;
  uint64_t begin = 0;  // byte range in the data buffer: [begin, end)
  uint64_t end = 0;
};

struct SafetensorsLayout {
  std::vector<SafetensorsEntry> entries;        // in data-offset order, tiling the data buffer
  std::map<std::string, std::string> metadata;  // "__metadata__"
  size_t data_offset = 0;                       // where the data buffer starts in the file
};

// Every rule of safetensors.cpp's Note [Full coverage] and the reference
// implementation, plus ours (duplicate names, BOOL bytes 0 or 1). Malformed
// input is a ModelError naming `origin` and the problem. The returned ranges
// lie inside [data_offset, size) of `bytes`.
SafetensorsLayout parse_safetensors_layout(const char* bytes, size_t size, const std::string& origin);

}  // namespace medtrain::models
