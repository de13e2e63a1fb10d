#pragma once
// Stored pixel words -> float32 values, once the bytes are native (uncompressed,
// little endian in host order). No DCMTK, no LibTorch: plain loops.
//
// Note [Pixel pipeline]
// Per sample, in this order (DICOM PS3.3 C.7.6.3, C.11.1):
//  1. stored value: the word (1, 8, 16 or 32 bits allocated; 1 bit is packed,
//     see dicom_bit_unpack.h) shifted down by
//     HighBit + 1 - BitsStored and masked to BitsStored bits; sign-extended from
//     bit BitsStored-1 when PixelRepresentation is 1. Garbage in the unused high
//     bits (overlays of old files) is thus ignored.
//  2. colour: YBR_FULL and YBR_FULL_422 (8 bit) become RGB with the JPEG/JFIF
//     equations of PS3.3 C.7.6.3.1.2 (round half up, clamp to [0, 255]), the
//     422 chroma shared by each pair of columns; RGB passes through.
//  3. modality LUT: value * RescaleSlope + RescaleIntercept (HU for CT),
//     computed in double and rounded once to float. float32 has a 24-bit
//     significand: 32-bit stored values above 2^24 in magnitude (and any
//     rescaled value needing more than ~7 significant digits) are rounded to
//     the nearest float, as pydicom's float64 values are when cast to float32.
//  4. MONOCHROME1 (minimum displayed white) is reflected inside the modality
//     range of the stored bits: v' = m(lo) + m(hi) - v, lo/hi the smallest and
//     largest storable value. The standard applies the inversion at display
//     time, after the modality and VOI LUTs; reflecting the modality values
//     is the same image for any window (the window center is reflected too),
//     and for training we want higher = brighter in every file.
#include <cstddef>
#include <cstdint>
#include <string>

namespace medtrain::data {

enum class ColourModel { kMonochrome, kRgb, kYbrFull, kYbrFull422 };

struct PixelLayout {
  int64_t rows = 0, cols = 0, frames = 1;
  int samples = 1;
  int planar = 0;  // 1: each frame is the R plane, then G, then B
  int bits_allocated = 16, bits_stored = 16, high_bit = 15;
  bool is_signed = false;
  bool invert = false;  // MONOCHROME1
  ColourModel colour = ColourModel::kMonochrome;
  double slope = 1.0, intercept = 0.0;
};

// Bytes of native Pixel Data the layout needs (all frames).
int64_t native_pixel_bytes(const PixelLayout& layout);

// m(lo) + m(hi): the sum that MONOCHROME1 values are reflected about.
double monochrome1_reflect_sum(const PixelLayout& layout);

// raw: native_pixel_bytes(layout) bytes of stored words in host byte order.
// out: frames*rows*cols*(samples) floats, samples last. The caller checked the
// layout (1, 8, 16 or 32 bits allocated; samples 1 or 3; YBR models 8 bit only).
void convert_stored_pixels(const void* raw, const PixelLayout& layout, float* out);

}  // namespace medtrain::data
