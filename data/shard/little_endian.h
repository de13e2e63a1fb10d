#pragma once
// Little-endian integers for record layouts (speech_record.h, text_record.h):
// written and read by shifts, so the bytes are the same on any host. (The
// image records of shard_format.cpp copy host-order bytes instead.)
#include <cstdint>
#include <vector>

namespace medtrain::data::shard {

inline void put_u32(std::vector<uint8_t>& out, uint32_t v) {
  for (int b = 0; b < 4; ++b) out.push_back(static_cast<uint8_t>(v >> (8 * b)));
}

inline void put_u64(std::vector<uint8_t>& out, uint64_t v) {
  for (int b = 0; b < 8; ++b) out.push_back(static_cast<uint8_t>(v >> (8 * b)));
}

// `p` must hold 4 (8) readable bytes: callers check record lengths first.
inline uint32_t get_u32(const uint8_t* p) {
  uint32_t v = 0;
  for (int b = 3; b >= 0; --b) v = (v << 8) | p[b];
  return v;
}

inline uint64_t get_u64(const uint8_t* p) {
  uint64_t v = 0;
  for (int b = 7; b >= 0; --b) v = (v << 8) | p[b];
  return v;
}

}  // namespace medtrain::data::shard
