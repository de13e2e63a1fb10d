#include "data/dicom/dicom_bit_unpack.h"

namespace medtrain::data {

void unpack_bits(const uint8_t* packed, int64_t count, uint8_t* out) {
  const int64_t whole = count / 8;
  for (int64_t b = 0; b < whole; ++b) {  // eight pixels per byte, no per-bit index math
    const uint8_t byte = packed[b];
    for (int k = 0; k < 8; ++k) out[8 * b + k] = static_cast<uint8_t>((byte >> k) & 1u);
  }
  for (int64_t i = whole * 8; i < count; ++i) out[i] = static_cast<uint8_t>((packed[i / 8] >> (i % 8)) & 1u);
}

}  // namespace medtrain::data
