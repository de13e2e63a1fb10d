#pragma once
// CRC32C (Castagnoli), the checksum TFRecord framing uses: the shard reader's
// implementation (data/shard/crc32c.h; Debian ships no libcrc32c), plus
// TFRecord's masking.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "data/shard/crc32c.h"

namespace medtrain::metrics {

// Plain CRC32C: reflected polynomial 0x82F63B78, init and final xor 0xFFFFFFFF.
// crc32c("123456789") == 0xE3069283.
inline uint32_t crc32c(const void* data, std::size_t size) { return data::shard::crc32c(data, size); }
inline uint32_t crc32c(std::string_view bytes) { return crc32c(bytes.data(), bytes.size()); }

// TFRecord's masked form: a CRC stored next to data that itself holds CRCs
// would otherwise be easy to confuse, so TensorFlow rotates and offsets it.
inline uint32_t masked_crc32c(uint32_t crc) {
  return ((crc >> 15) | (crc << 17)) + 0xa282ead8u;
}

}  // namespace medtrain::metrics
