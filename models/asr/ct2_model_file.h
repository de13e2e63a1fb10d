#pragma once
// Reader for CTranslate2's model.bin (binary version 6), the weights file of a
// faster-whisper / CTranslate2 model folder. Torch-free, so that the libFuzzer
// target (tests/fuzz/ct2_model_fuzz.cpp) instruments exactly this code.
//
// Every length is checked against what is left of the file before anything is
// allocated or read, so a hostile header can neither crash the reader nor make
// it allocate more than the file holds. Errors are ModelError
// ("<file>: offset N: <what was wrong>"). The layout is in Note [model.bin] in
// ct2_model_file.cpp and in docs/asr.md ("Weights from CTranslate2").
#include <cstddef>
#include <cstdint>
#include <map>
#include <string>
#include <vector>

namespace medtrain::models::asr {

// The ids ctranslate2 writes (include/ctranslate2/types.h DataType order).
enum class Ct2DType : uint8_t { kF32 = 0, kI8 = 1, kI16 = 2, kI32 = 3, kF16 = 4, kBF16 = 5 };

size_t ct2_dtype_size(Ct2DType dtype);
const char* ct2_dtype_name(Ct2DType dtype);  // "float32", "int8", ... as ctranslate2 names them

struct Ct2Variable {
  std::string name;             // e.g. "encoder/layer_0/self_attention/linear_0/weight"
  std::vector<uint32_t> shape;  // empty for a scalar
  Ct2DType dtype = Ct2DType::kF32;
  uint64_t offset = 0;          // of the first data byte in the file (for messages)
  std::vector<uint8_t> bytes;   // little-endian, row-major, exactly numel * dtype size

  uint64_t numel() const;
  // The value of an integer scalar (i8/i16/i32, rank 0); ModelError otherwise.
  int64_t int_scalar(const std::string& origin) const;
};

struct Ct2Alias {
  std::string name;    // the alias, e.g. "decoder/projection/weight"
  std::string target;  // as written: a variable or an earlier alias
  size_t variable = 0; // index into Ct2ModelFile::variables it resolves to
};

struct Ct2ModelFile {
  std::string origin;  // the path, or a label for bytes from memory
  uint32_t binary_version = 0;
  std::string spec;    // e.g. "WhisperSpec"
  uint32_t spec_revision = 0;
  std::vector<Ct2Variable> variables;  // in file order (ctranslate2 sorts by name)
  std::vector<Ct2Alias> aliases;       // in file order
  std::map<std::string, size_t> by_name;  // variables and aliases -> index into variables

  // The variable `name` names directly or through an alias; nullptr if none.
  const Ct2Variable* find(const std::string& name) const;
};

inline constexpr uint32_t kCt2BinaryVersion = 6;

// What a caller expects of the header; checked before any variable is read, so
// a foreign multi-gigabyte model is refused at once. Empty spec: any.
struct Ct2Expectation {
  std::string spec;
  uint32_t revision = 0;  // 0: any
};

Ct2ModelFile read_ct2_model_file(const std::string& path, const Ct2Expectation& expect = {});
Ct2ModelFile parse_ct2_model_bytes(const uint8_t* data, size_t size, const std::string& origin,
                                   const Ct2Expectation& expect = {});

}  // namespace medtrain::models::asr
