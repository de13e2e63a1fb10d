#include "data/dicom/dicom_pixels.h"

#include <algorithm>
#include <cmath>
#include <type_traits>
#include <vector>

#include "data/dicom/dicom_bit_unpack.h"

namespace medtrain::data {
namespace {

// Stored value of one word (Note [Pixel pipeline], step 1).
struct StoredValue {
  int shift;
  uint32_t mask;
  int64_t sign_bit;
  int64_t wrap;
  bool is_signed;

  explicit StoredValue(const PixelLayout& l)
      : shift(l.high_bit + 1 - l.bits_stored),
        mask(static_cast<uint32_t>((uint64_t{1} << l.bits_stored) - 1)),
        sign_bit(int64_t{1} << (l.bits_stored - 1)),
        wrap(int64_t{1} << l.bits_stored),
        is_signed(l.is_signed) {}

  int64_t operator()(uint32_t word) const {
    int64_t v = (word >> shift) & mask;
    if (is_signed && (v & sign_bit)) v -= wrap;
    return v;
  }
};

// Branch-free in 32-bit integers so the compiler vectorises it: the sign
// extension is (v ^ s) - s with s the sign bit (0 when unsigned), the same
// value as StoredValue gives. This loop is most of an uncompressed decode.
// Real is double, or float where every intermediate is an integer below 2^24
// (float_is_exact): then both give the same floats, float twice as fast.
// 32-bit words need 64-bit integers: an unsigned 32-bit value does not fit int32.
template <typename Real, bool kInvert, typename T>
void convert_mono_loop(const T* __restrict raw, const PixelLayout& l, float* __restrict out) {
  using Int = std::conditional_t<sizeof(T) == 4, int64_t, int32_t>;
  const int shift = l.high_bit + 1 - l.bits_stored;
  const uint32_t mask = static_cast<uint32_t>((uint64_t{1} << l.bits_stored) - 1);
  const Int sign = l.is_signed ? static_cast<Int>(uint64_t{1} << (l.bits_stored - 1)) : 0;
  const int64_t n = l.rows * l.cols * l.frames;
  const Real slope = static_cast<Real>(l.slope), intercept = static_cast<Real>(l.intercept);
  const Real reflect = static_cast<Real>(monochrome1_reflect_sum(l));
  for (int64_t i = 0; i < n; ++i) {
    const Int v = static_cast<Int>((static_cast<uint32_t>(raw[i]) >> shift) & mask);
    const Real m = static_cast<Real>((v ^ sign) - sign) * slope + intercept;
    out[i] = static_cast<float>(kInvert ? reflect - m : m);  // reflect - m exactly as written in the Note
  }
}

// True when slope and intercept are integers small enough that every value of
// the modality LUT (and its MONOCHROME1 reflection) is an integer below 2^24:
// the usual CT case (slope 1, intercept -1024) and every unscaled image.
bool float_is_exact(const PixelLayout& l) {
  const auto integral = [](double x) { return std::abs(x) < 1e9 && x == std::floor(x); };
  if (!integral(l.slope) || !integral(l.intercept)) return false;
  const double largest = std::abs(l.slope) * std::ldexp(1.0, l.bits_stored) + std::abs(l.intercept);
  return 2 * largest + std::abs(monochrome1_reflect_sum(l)) < std::ldexp(1.0, 24);
}

template <typename T>
void convert_mono(const T* raw, const PixelLayout& l, float* out) {
  const bool exact = float_is_exact(l);
  if (l.invert) {
    exact ? convert_mono_loop<float, true>(raw, l, out) : convert_mono_loop<double, true>(raw, l, out);
  } else {
    exact ? convert_mono_loop<float, false>(raw, l, out) : convert_mono_loop<double, false>(raw, l, out);
  }
}

// YBR_FULL -> RGB as PS3.3 C.7.6.3.1.2, in float32 like pydicom's reference
// (round half up, clamp), so both decoders agree to the last unit.
inline void ybr_to_rgb(float y, float cb, float cr, float rgb[3]) {
  constexpr float kGcb = static_cast<float>(-0.114 * 1.772 / 0.587);
  constexpr float kGcr = static_cast<float>(-0.299 * 1.402 / 0.587);
  cb -= 128.0f;
  cr -= 128.0f;
  const float v[3] = {y + 1.402f * cr, y + kGcb * cb + kGcr * cr, y + 1.772f * cb};
  for (int k = 0; k < 3; ++k) rgb[k] = std::clamp(std::floor(v[k] + 0.5f), 0.0f, 255.0f);
}

// Three samples per pixel, planar 0 or 1, RGB or YBR_FULL.
template <typename T>
void convert_colour(const T* raw, const PixelLayout& l, float* out) {
  const StoredValue stored(l);
  const int64_t plane = l.rows * l.cols;
  for (int64_t f = 0; f < l.frames; ++f) {
    const T* src = raw + f * plane * 3;
    float* dst = out + f * plane * 3;
    for (int64_t p = 0; p < plane; ++p) {
      float s[3];
      for (int k = 0; k < 3; ++k) {
        const T word = l.planar == 1 ? src[k * plane + p] : src[p * 3 + k];
        s[k] = static_cast<float>(stored(word));
      }
      float rgb[3] = {s[0], s[1], s[2]};
      if (l.colour == ColourModel::kYbrFull) ybr_to_rgb(s[0], s[1], s[2], rgb);
      for (int k = 0; k < 3; ++k) {
        dst[p * 3 + k] = static_cast<float>(static_cast<double>(rgb[k]) * l.slope + l.intercept);
      }
    }
  }
}

// YBR_FULL_422, 8 bit: each pair of pixels is stored as Y0 Y1 Cb Cr.
void convert_ybr422(const uint8_t* raw, const PixelLayout& l, float* out) {
  const int64_t pairs = l.rows * l.cols * l.frames / 2;
  for (int64_t k = 0; k < pairs; ++k) {
    const uint8_t* q = raw + 4 * k;
    for (int j = 0; j < 2; ++j) {
      float rgb[3];
      ybr_to_rgb(q[j], q[2], q[3], rgb);
      for (int c = 0; c < 3; ++c) {
        out[(2 * k + j) * 3 + c] = static_cast<float>(static_cast<double>(rgb[c]) * l.slope + l.intercept);
      }
    }
  }
}

template <typename T>
void convert_typed(const T* raw, const PixelLayout& l, float* out) {
  if (l.samples == 1) {
    convert_mono(raw, l, out);
  } else {
    convert_colour(raw, l, out);
  }
}

// BitsAllocated 1: unpacked to one byte per sample, then an 8-bit word of
// BitsStored 1 like any other (Note in dicom_bit_unpack.h).
void convert_packed_bits(const uint8_t* raw, PixelLayout l, float* out) {
  std::vector<uint8_t> bytes(static_cast<size_t>(l.rows * l.cols * l.frames * l.samples));
  unpack_bits(raw, static_cast<int64_t>(bytes.size()), bytes.data());
  l.bits_allocated = 8;
  convert_stored_pixels(bytes.data(), l, out);
}

}  // namespace

int64_t native_pixel_bytes(const PixelLayout& l) {
  const int64_t pixels = l.rows * l.cols * l.frames;
  if (l.colour == ColourModel::kYbrFull422) return pixels * 2;  // Y per pixel, Cb+Cr per pair
  return (pixels * l.samples * l.bits_allocated + 7) / 8;  // 1 bit: packed, frames not byte aligned
}

double monochrome1_reflect_sum(const PixelLayout& l) {
  const double half = static_cast<double>(int64_t{1} << (l.bits_stored - 1));
  const double lo = l.is_signed ? -half : 0.0;
  const double hi = l.is_signed ? half - 1 : 2 * half - 1;
  return (lo + hi) * l.slope + 2.0 * l.intercept;
}

void convert_stored_pixels(const void* raw, const PixelLayout& l, float* out) {
  if (l.colour == ColourModel::kYbrFull422) {
    convert_ybr422(static_cast<const uint8_t*>(raw), l, out);
  } else if (l.bits_allocated == 1) {
    convert_packed_bits(static_cast<const uint8_t*>(raw), l, out);
  } else if (l.bits_allocated == 8) {
    convert_typed(static_cast<const uint8_t*>(raw), l, out);
  } else if (l.bits_allocated == 32) {
    convert_typed(static_cast<const uint32_t*>(raw), l, out);
  } else {
    convert_typed(static_cast<const uint16_t*>(raw), l, out);
  }
}

}  // namespace medtrain::data
