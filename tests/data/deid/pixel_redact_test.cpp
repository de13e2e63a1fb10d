// Blacking out boxes in native pixel data: the value that displays darkest for
// each photometric interpretation (hand-computed here), every frame, only the box,
// and every bit of the word (overlay bits in unused high bits too).
#include <gtest/gtest.h>

#include <vector>

#include "data/deid/pixel_redact.h"

namespace medtrain::data::deid {
namespace {

NativeImage image(std::vector<uint8_t>& bytes, PixelLayout l) {
  NativeImage img;
  img.layout = l;
  PixelLayout one = l;
  one.frames = 1;
  img.frame_bytes = native_pixel_bytes(one);
  bytes.assign(static_cast<size_t>(native_pixel_bytes(l)), 0xAB);
  img.data = bytes.data();
  return img;
}

PixelLayout mono16(int bits_stored, bool is_signed, bool invert) {
  PixelLayout l;
  l.rows = 4, l.cols = 5, l.frames = 2, l.samples = 1;
  l.bits_allocated = 16, l.bits_stored = bits_stored, l.high_bit = bits_stored - 1;
  l.is_signed = is_signed, l.invert = invert;
  return l;
}

uint16_t word_at(const std::vector<uint8_t>& b, const PixelLayout& l, int64_t f, int64_t y, int64_t x) {
  return reinterpret_cast<const uint16_t*>(b.data())[(f * l.rows + y) * l.cols + x];
}

TEST(PixelRedact, Monochrome2SignedIsTheMinimumInEveryFrameOnlyInTheBox) {
  std::vector<uint8_t> bytes;
  const PixelLayout l = mono16(12, true, false);
  NativeImage img = image(bytes, l);
  fill_black(img, {{1, 1, 2, 2}});
  for (int64_t f = 0; f < 2; ++f) {
    for (int64_t y = 0; y < 4; ++y) {
      for (int64_t x = 0; x < 5; ++x) {
        const bool in = y >= 1 && y < 3 && x >= 1 && x < 3;
        EXPECT_EQ(word_at(bytes, l, f, y, x), in ? 0x0800 : 0xABAB) << f << " " << y << " " << x;  // -2048, high bits 0
      }
    }
  }
}

TEST(PixelRedact, Monochrome1IsTheMaximumAndNegativeSlopeFlips) {
  std::vector<uint8_t> bytes;
  PixelLayout l = mono16(12, false, true);
  NativeImage img = image(bytes, l);
  fill_black(img, {{0, 0, 1, 1}});
  EXPECT_EQ(word_at(bytes, l, 1, 0, 0), 0x0FFF);
  l = mono16(12, false, false);
  l.slope = -1;
  img = image(bytes, l);
  fill_black(img, {{0, 0, 1, 1}});
  EXPECT_EQ(word_at(bytes, l, 0, 0, 0), 0x0FFF);  // the largest stored value is the darkest
  l = mono16(8, false, false);
  l.high_bit = 11;  // stored bits 4..11
  img = image(bytes, l);
  fill_black(img, {{0, 0, 1, 1}});
  EXPECT_EQ(word_at(bytes, l, 0, 0, 0), 0x0000);
}

TEST(PixelRedact, RgbPlanarAndYbr422) {
  std::vector<uint8_t> bytes;
  PixelLayout l;
  l.rows = 2, l.cols = 4, l.frames = 1, l.samples = 3, l.bits_allocated = 8, l.bits_stored = 8, l.high_bit = 7;
  l.colour = ColourModel::kRgb, l.planar = 1;
  NativeImage img = image(bytes, l);
  fill_black(img, {{1, 0, 1, 1}});
  for (int k = 0; k < 3; ++k) {
    EXPECT_EQ(bytes[k * 8 + 1], 0);     // pixel (0,1) of plane k
    EXPECT_EQ(bytes[k * 8 + 0], 0xAB);  // its neighbour
  }
  l.colour = ColourModel::kYbrFull422, l.planar = 0;
  img = image(bytes, l);
  ASSERT_EQ(bytes.size(), 16u);  // 8 pixels: 4 pairs of Y0 Y1 Cb Cr
  fill_black(img, {{1, 0, 1, 1}});
  EXPECT_EQ(bytes[0], 0xAB);  // Y of pixel 0 kept
  EXPECT_EQ(bytes[1], 0);     // Y of pixel 1
  EXPECT_EQ(bytes[2], 128);   // the pair's chroma neutral
  EXPECT_EQ(bytes[3], 128);
  EXPECT_EQ(bytes[4], 0xAB);  // next pair untouched
}

TEST(PixelRedact, YbrFullIsYZeroAndNeutralChroma) {
  std::vector<uint8_t> bytes;
  PixelLayout l;
  l.rows = 1, l.cols = 2, l.samples = 3, l.bits_allocated = 8, l.bits_stored = 8, l.high_bit = 7;
  l.colour = ColourModel::kYbrFull;
  NativeImage img = image(bytes, l);
  fill_black(img, {{0, 0, 1, 1}});
  EXPECT_EQ(bytes[0], 0);
  EXPECT_EQ(bytes[1], 128);
  EXPECT_EQ(bytes[2], 128);
  EXPECT_EQ(bytes[3], 0xAB);
}

}  // namespace
}  // namespace medtrain::data::deid
