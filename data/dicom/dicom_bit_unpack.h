#pragma once
// BitsAllocated 1 (segmentations, overlays-as-images): pixels packed eight to a
// byte. Internal to data/dicom/dicom_pixels.cpp.
//
// PS3.5 8.1.1 and 8.2: the first pixel is the least significant bit of the first
// byte, and frames follow one another without padding, so frame k starts at bit
// k * rows * cols * samples, inside a byte when that is not a multiple of 8
// (pydicom's pixel_array unpacks the same way). The one-bit value is then an
// ordinary stored value of BitsStored 1: 0 or 1.
#include <cstdint>

namespace medtrain::data {

// out[i] = bit i of the stream at `packed` (0 or 1), for i < count; reads
// ceil(count / 8) bytes.
void unpack_bits(const uint8_t* packed, int64_t count, uint8_t* out);

}  // namespace medtrain::data
