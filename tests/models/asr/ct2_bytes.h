#pragma once
// Writes model.bin bytes field by field (the layout of Note [model.bin] in
// models/asr/ct2_model_file.cpp), so tests can build exactly the malformed
// file they need: wrong counts, bad dtype ids, misframed strings.
#include <cstdint>
#include <string>
#include <vector>

namespace medtrain::testing {

struct Ct2Bytes {
  std::string out;

  Ct2Bytes& u8(uint8_t v) {
    out.push_back(static_cast<char>(v));
    return *this;
  }
  Ct2Bytes& u16(uint16_t v) { return u8(v & 0xFF).u8(v >> 8); }
  Ct2Bytes& u32(uint32_t v) { return u16(v & 0xFFFF).u16(v >> 16); }
  Ct2Bytes& raw(const std::string& bytes) {
    out += bytes;
    return *this;
  }
  // Length counting the trailing NUL, the text, the NUL.
  Ct2Bytes& str(const std::string& s) {
    u16(static_cast<uint16_t>(s.size() + 1));
    out += s;
    out.push_back('\0');
    return *this;
  }
  Ct2Bytes& header(uint32_t version = 6, const std::string& spec = "WhisperSpec", uint32_t revision = 3) {
    return u32(version).str(spec).u32(revision);
  }
  // One variable; byte_count defaults to bytes.size().
  Ct2Bytes& var(const std::string& name, const std::vector<uint32_t>& shape, uint8_t dtype, const std::string& bytes,
                int64_t byte_count = -1) {
    str(name).u8(static_cast<uint8_t>(shape.size()));
    for (const uint32_t d : shape) u32(d);
    u8(dtype).u32(static_cast<uint32_t>(byte_count < 0 ? static_cast<int64_t>(bytes.size()) : byte_count));
    return raw(bytes);
  }
};

}  // namespace medtrain::testing
