#include "data/dicom_pixels.h"

#include <algorithm>
#include <cmath>

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

template <typename T>
void convert_mono(const T* raw, const PixelLayout& l, float* out) {
  const StoredValue stored(l);
  const int64_t n = l.rows * l.cols * l.frames;
  const double reflect = monochrome1_reflect_sum(l);
  if (!l.invert) {
    for (int64_t i = 0; i < n; ++i) {
      out[i] = static_cast<float>(static_cast<double>(stored(raw[i])) * l.slope + l.intercept);
    }
    return;
  }
  for (int64_t i = 0; i < n; ++i) {  // reflect - m exactly as written in the Note
    out[i] = static_cast<float>(reflect - (static_cast<double>(stored(raw[i])) * l.slope + l.intercept));
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

}  // namespace

int64_t native_pixel_bytes(const PixelLayout& l) {
  const int64_t pixels = l.rows * l.cols * l.frames;
  if (l.colour == ColourModel::kYbrFull422) return pixels * 2;  // Y per pixel, Cb+Cr per pair
  return pixels * l.samples * (l.bits_allocated / 8);
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
  } else if (l.bits_allocated == 8) {
    convert_typed(static_cast<const uint8_t*>(raw), l, out);
  } else {
    convert_typed(static_cast<const uint16_t*>(raw), l, out);
  }
}

}  // namespace medtrain::data
