// convert_stored_pixels against Note [Pixel pipeline] written out plainly in
// double precision: every word of the layout's range plus garbage high bits,
// signed and unsigned, bits stored below allocated at any high bit, rescaled
// or not, MONOCHROME1 or not. The conversion picks float arithmetic where it
// proves it exact and double elsewhere; either way the floats must be the
// same to the last bit, so the layouts straddle that boundary.
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <random>
#include <vector>

#include "data/dicom/dicom_pixels.h"

namespace medtrain::data {
namespace {

// The Note, step by step, for one word.
float reference_value(uint32_t word, const PixelLayout& l) {
  int64_t v = (word >> (l.high_bit + 1 - l.bits_stored)) & ((int64_t{1} << l.bits_stored) - 1);
  if (l.is_signed && (v & (int64_t{1} << (l.bits_stored - 1)))) v -= int64_t{1} << l.bits_stored;
  const double m = static_cast<double>(v) * l.slope + l.intercept;
  if (!l.invert) return static_cast<float>(m);
  const double half = std::ldexp(1.0, l.bits_stored - 1);
  const double lo = l.is_signed ? -half : 0.0, hi = l.is_signed ? half - 1 : 2 * half - 1;
  return static_cast<float>(((lo + hi) * l.slope + 2.0 * l.intercept) - m);  // m(lo) + m(hi) - m
}

struct Case {
  int bits_allocated, bits_stored, high_bit;
  bool is_signed, invert;
  double slope, intercept;
};

template <typename Word>
void check(const Case& c) {
  PixelLayout l;
  l.bits_allocated = c.bits_allocated, l.bits_stored = c.bits_stored, l.high_bit = c.high_bit;
  l.is_signed = c.is_signed, l.invert = c.invert, l.slope = c.slope, l.intercept = c.intercept;
  // Every word value once (all bit patterns, garbage bits included), then random
  // ones; 32-bit words: every pattern of the top and bottom 8 bits instead.
  std::vector<Word> words;
  if constexpr (sizeof(Word) < 4) {
    const uint32_t count = uint32_t{1} << (8 * sizeof(Word));
    for (uint32_t w = 0; w < count; ++w) words.push_back(static_cast<Word>(w));
  } else {
    std::mt19937 middle(5);
    for (uint32_t hi = 0; hi < 256; ++hi) {
      for (uint32_t lo = 0; lo < 256; ++lo) words.push_back((hi << 24) | ((middle() & 0xffffu) << 8) | lo);
    }
  }
  std::mt19937 rng(7);
  for (int i = 0; i < 1001; ++i) words.push_back(static_cast<Word>(rng()));  // odd tail: not a vector multiple
  l.rows = 1, l.cols = static_cast<int64_t>(words.size());
  std::vector<float> got(words.size());
  convert_stored_pixels(words.data(), l, got.data());
  for (size_t i = 0; i < words.size(); ++i) {
    const float want = reference_value(words[i], l);
    ASSERT_EQ(std::memcmp(&got[i], &want, sizeof(float)), 0)
        << "word " << words[i] << ": got " << got[i] << ", want " << want;
  }
}

TEST(ConvertStoredPixels, SixteenBitLayoutsMatchTheNote) {
  for (const Case& c : {
           Case{16, 12, 11, false, false, 1.0, -1024.0},  // CT: float path
           Case{16, 12, 11, true, false, 1.0, -1024.0},
           Case{16, 16, 15, true, false, 1.0, 0.0},
           Case{16, 16, 15, false, true, 1.0, 0.0},      // MONOCHROME1, unscaled
           Case{16, 12, 15, false, false, 1.0, 0.0},     // stored in the high bits, garbage below
           Case{16, 10, 13, true, true, 2.0, -300.0},    // odd placement, inverted, scaled
           Case{16, 12, 11, false, false, 0.5, -1024.0},  // fractional slope: double path
           Case{16, 12, 11, true, true, 1.0, -1024.25},   // fractional intercept
           Case{16, 16, 15, false, false, 300.0, 0.0},    // integers, but past 2^24
           Case{16, 16, 15, true, true, 64.0, 5.0e6},     // past 2^24 once reflected
           Case{16, 16, 15, false, false, 1.0, 1.0e12},   // huge intercept
       }) {
    SCOPED_TRACE(testing::Message() << "stored " << c.bits_stored << " high " << c.high_bit << " signed "
                                    << c.is_signed << " invert " << c.invert << " slope " << c.slope
                                    << " intercept " << c.intercept);
    check<uint16_t>(c);
  }
}

TEST(ConvertStoredPixels, EightBitLayoutsMatchTheNote) {
  for (const Case& c : {Case{8, 8, 7, false, false, 1.0, 0.0}, Case{8, 8, 7, true, true, 1.0, 0.0},
                        Case{8, 6, 6, true, false, 3.0, -7.0}, Case{8, 8, 7, false, false, 0.1, 0.0}}) {
    SCOPED_TRACE(testing::Message() << "stored " << c.bits_stored << " signed " << c.is_signed << " slope " << c.slope);
    check<uint8_t>(c);
  }
}

// 32 bits: the sign bit is bit 31 (an unsigned value does not fit int32), and
// values past 2^24 round to float once, from the exact double.
TEST(ConvertStoredPixels, ThirtyTwoBitLayoutsMatchTheNote) {
  for (const Case& c : {Case{32, 32, 31, false, false, 1.0, 0.0}, Case{32, 32, 31, true, false, 1.0, 0.0},
                        Case{32, 32, 31, false, true, 0.25, -100.0}, Case{32, 24, 23, true, false, 0.5, 10.0},
                        Case{32, 20, 27, true, true, 1.0, -1024.0},  // float path, garbage on both sides
                        Case{32, 16, 15, false, false, 1.0, 0.0}}) {
    SCOPED_TRACE(testing::Message() << "stored " << c.bits_stored << " high " << c.high_bit << " signed "
                                    << c.is_signed << " invert " << c.invert << " slope " << c.slope);
    check<uint32_t>(c);
  }
}

// BitsAllocated 1: LSB first, frames back to back, so with 7 x 9 = 63 pixels
// per frame the second frame starts at bit 7 of byte 7 (PS3.5 8.1.1).
TEST(ConvertStoredPixels, OneBitFramesStartInsideBytes) {
  PixelLayout l;
  l.rows = 7, l.cols = 9, l.frames = 3;
  l.bits_allocated = 1, l.bits_stored = 1, l.high_bit = 0;
  const int64_t n = l.rows * l.cols * l.frames;
  ASSERT_EQ(native_pixel_bytes(l), (n + 7) / 8);
  std::mt19937 rng(3);
  std::vector<int> bits(n);
  std::vector<uint8_t> packed(static_cast<size_t>(native_pixel_bytes(l)), 0);
  for (int64_t i = 0; i < n; ++i) {
    bits[i] = static_cast<int>(rng() & 1u);
    packed[i / 8] = static_cast<uint8_t>(packed[i / 8] | (bits[i] << (i % 8)));
  }
  std::vector<float> got(n);
  convert_stored_pixels(packed.data(), l, got.data());
  for (int64_t i = 0; i < n; ++i) ASSERT_EQ(got[i], static_cast<float>(bits[i])) << "pixel " << i;
  l.slope = 1000, l.intercept = -1;  // the modality LUT still applies
  convert_stored_pixels(packed.data(), l, got.data());
  EXPECT_EQ(got[63], bits[63] ? 999.0f : -1.0f);  // the first pixel of frame 2
}

}  // namespace
}  // namespace medtrain::data
