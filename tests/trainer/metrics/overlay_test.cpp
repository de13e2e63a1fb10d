// Overlays and tile grids: sizes, the blending arithmetic at chosen pixels
// (computed here by hand from the documented formulas), palette wrap-around
// and refusals.
#include "trainer/metrics/overlay.h"

#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <set>
#include <stdexcept>
#include <vector>

#include "tests/trainer/metrics/test_util.h"

namespace medtrain::metrics {
namespace {

using Rgb = std::array<uint8_t, 3>;

Rgb pixel(const RasterImage& img, int64_t x, int64_t y) {
  const uint8_t* p = img.at(x, y);
  return {p[0], p[1], p[2]};
}

uint8_t mix(double under, double over, double a) { return static_cast<uint8_t>(std::lround((1 - a) * under + a * over)); }

TEST(Overlay, ClassColoursAreDistinctAndWrapAround) {
  std::set<Rgb> seen;
  int64_t period = 0;
  for (int64_t k = 0; k < 64 && period == 0; ++k) {
    if (!seen.insert(class_colour(k)).second) period = k;
  }
  ASSERT_GE(period, 8) << "fewer than 8 distinct class colours";
  for (int64_t k = 0; k < 3 * period; ++k) EXPECT_EQ(class_colour(k), class_colour(k + period)) << k;
  EXPECT_EQ(class_colour(-1), class_colour(period - 1));  // negative indices wrap too, no crash
  for (const Rgb& c : seen) EXPECT_FALSE(c[0] == c[1] && c[1] == c[2]) << "a gray class colour vanishes on CT";
}

TEST(Overlay, HeatColourRunsBlueCyanYellowRed) {
  EXPECT_EQ(heat_colour(0.0f), (Rgb{0, 0, 128}));
  EXPECT_EQ(heat_colour(0.25f), (Rgb{0, 128, 255}));
  EXPECT_EQ(heat_colour(0.5f), (Rgb{128, 255, 128}));
  EXPECT_EQ(heat_colour(0.75f), (Rgb{255, 128, 0}));
  EXPECT_EQ(heat_colour(1.0f), (Rgb{128, 0, 0}));
  EXPECT_EQ(heat_colour(-3.0f), heat_colour(0.0f));  // clamped
  EXPECT_EQ(heat_colour(7.0f), heat_colour(1.0f));
  EXPECT_EQ(heat_colour(std::numeric_limits<float>::quiet_NaN()), (Rgb{0, 0, 0}));
  // Hotter is redder: red rises (until the dark end), blue falls.
  for (float v = 0.0f; v < 0.75f; v += 0.05f) {
    EXPECT_LE(heat_colour(v)[0], heat_colour(v + 0.05f)[0]) << v;
  }
  for (float v = 0.25f; v < 1.0f; v += 0.05f) {
    EXPECT_GE(heat_colour(v)[2], heat_colour(v + 0.05f)[2]) << v;
  }
}

TEST(Overlay, MaskOverlayBlendsLabelledPixelsOnly) {
  RasterImage gray(3, 2, 1);
  gray.pixels = {0, 50, 100, 150, 200, 250};
  const std::vector<int64_t> labels = {0, 1, 2, 0, 13, -4};
  const RasterImage out = mask_overlay(gray, labels, 0.25);
  ASSERT_EQ(out.width, 3);
  ASSERT_EQ(out.height, 2);
  ASSERT_EQ(out.channels, 3);
  EXPECT_EQ(pixel(out, 0, 0), (Rgb{0, 0, 0}));        // background untouched
  EXPECT_EQ(pixel(out, 0, 1), (Rgb{150, 150, 150}));  // gray replicated
  EXPECT_EQ(pixel(out, 2, 1), (Rgb{250, 250, 250}));  // negative labels are not drawn
  const auto expect_blend = [&](int64_t x, int64_t y, double under, int64_t label) {
    const Rgb c = class_colour(label);
    EXPECT_EQ(pixel(out, x, y), (Rgb{mix(under, c[0], 0.25), mix(under, c[1], 0.25), mix(under, c[2], 0.25)}))
        << x << "," << y;
  };
  expect_blend(1, 0, 50, 1);
  expect_blend(2, 0, 100, 2);
  expect_blend(1, 1, 200, 13);  // past the palette: its wrapped colour

  RasterImage rgb(2, 1, 3);
  rgb.pixels = {10, 20, 30, 40, 50, 60};
  const RasterImage full = mask_overlay(rgb, {1, 0}, 1.0);
  EXPECT_EQ(pixel(full, 0, 0), class_colour(1));
  EXPECT_EQ(pixel(full, 1, 0), (Rgb{40, 50, 60}));
  EXPECT_EQ(mask_overlay(rgb, {1, 1}, 0.0).pixels, rgb.pixels);
}

TEST(Overlay, HeatmapOverlayWeighsColourByHeat) {
  RasterImage gray(4, 1, 1);
  gray.pixels = {100, 100, 100, 100};
  const std::vector<float> heat = {0.0f, 0.5f, 1.0f, std::numeric_limits<float>::quiet_NaN()};
  const RasterImage out = heatmap_overlay(gray, heat, 0.5);
  ASSERT_EQ(out.channels, 3);
  EXPECT_EQ(pixel(out, 0, 0), (Rgb{100, 100, 100}));  // cold: the image itself
  const Rgb mid = heat_colour(0.5f), hot = heat_colour(1.0f);
  EXPECT_EQ(pixel(out, 1, 0), (Rgb{mix(100, mid[0], 0.25), mix(100, mid[1], 0.25), mix(100, mid[2], 0.25)}));
  EXPECT_EQ(pixel(out, 2, 0), (Rgb{mix(100, hot[0], 0.5), mix(100, hot[1], 0.5), mix(100, hot[2], 0.5)}));
  EXPECT_EQ(pixel(out, 3, 0), (Rgb{100, 100, 100}));  // NaN heat: no colour

  RasterImage rgba(1, 1, 4);
  rgba.pixels = {10, 20, 30, 0};
  EXPECT_EQ(heatmap_overlay(rgba, {0.0f}).pixels, (std::vector<uint8_t>{10, 20, 30}));  // alpha dropped
}

TEST(Overlay, SizeMismatchesAndBadAlphaThrow) {
  RasterImage gray(3, 2, 1);
  testing::expect_throw_with<std::invalid_argument>([&] { mask_overlay(gray, std::vector<int64_t>(5)); },
                                                    "mask_overlay: 5 labels for a 3x2 image (6 pixels)");
  testing::expect_throw_with<std::invalid_argument>([&] { heatmap_overlay(gray, std::vector<float>(7)); },
                                                    "heatmap_overlay: 7 heat values for a 3x2 image (6 pixels)");
  testing::expect_throw_with<std::invalid_argument>([&] { mask_overlay(gray, std::vector<int64_t>(6), 1.5); },
                                                    "alpha 1.5");
  testing::expect_throw_with<std::invalid_argument>(
      [&] { heatmap_overlay(gray, std::vector<float>(6), std::nan("")); }, "not in [0, 1]");
  RasterImage broken(3, 2, 1);
  broken.pixels.pop_back();
  testing::expect_throw_with<std::invalid_argument>([&] { mask_overlay(broken, std::vector<int64_t>(6)); },
                                                    "buffer does not match");
  testing::expect_throw_with<std::invalid_argument>([&] { heatmap_overlay(RasterImage(3, 2, 2), std::vector<float>(6)); },
                                                    "2 channels");
}

TEST(Overlay, TileGridPlacesPicturesInRows) {
  RasterImage a(2, 2, 1, 10), b(3, 1, 3, 0), c(1, 3, 1, 30);
  b.pixels = {1, 2, 3, 4, 5, 6, 7, 8, 9};
  const RasterImage grid = tile_grid({a, b, c}, 2, 1);
  // cells 3x3 (the largest width and height), 2 columns, 2 rows, 1 pixel apart
  ASSERT_EQ(grid.width, 2 * 3 + 1);
  ASSERT_EQ(grid.height, 2 * 3 + 1);
  ASSERT_EQ(grid.channels, 3);  // gray tiles converted to the RGB of b
  EXPECT_EQ(pixel(grid, 0, 0), (Rgb{10, 10, 10}));
  EXPECT_EQ(pixel(grid, 1, 1), (Rgb{10, 10, 10}));
  EXPECT_EQ(pixel(grid, 2, 0), (Rgb{0, 0, 0}));  // rest of a's cell: black
  EXPECT_EQ(pixel(grid, 3, 0), (Rgb{0, 0, 0}));  // the gap
  EXPECT_EQ(pixel(grid, 4, 0), (Rgb{1, 2, 3}));  // b at column 1: x = 3 + 1
  EXPECT_EQ(pixel(grid, 6, 0), (Rgb{7, 8, 9}));
  EXPECT_EQ(pixel(grid, 4, 1), (Rgb{0, 0, 0}));
  EXPECT_EQ(pixel(grid, 0, 4), (Rgb{30, 30, 30}));  // c on row 1: y = 3 + 1
  EXPECT_EQ(pixel(grid, 0, 6), (Rgb{30, 30, 30}));
  EXPECT_EQ(pixel(grid, 4, 4), (Rgb{0, 0, 0}));  // no fourth picture

  const RasterImage row = tile_grid({a, a}, 8);  // fewer pictures than columns: no empty columns
  EXPECT_EQ(row.width, 2 + 2 + 2);
  EXPECT_EQ(row.height, 2);
  EXPECT_EQ(row.channels, 1);

  RasterImage rgba(1, 1, 4);
  rgba.pixels = {1, 2, 3, 4};
  const RasterImage mixed = tile_grid({a, rgba}, 2, 0);
  ASSERT_EQ(mixed.channels, 4);
  EXPECT_EQ(std::vector<uint8_t>(mixed.at(0, 0), mixed.at(0, 0) + 4), (std::vector<uint8_t>{10, 10, 10, 255}));
  EXPECT_EQ(std::vector<uint8_t>(mixed.at(2, 0), mixed.at(2, 0) + 4), (std::vector<uint8_t>{1, 2, 3, 4}));
  EXPECT_EQ(std::vector<uint8_t>(mixed.at(3, 1), mixed.at(3, 1) + 4), (std::vector<uint8_t>{0, 0, 0, 255}));
}

TEST(Overlay, TileGridRefusals) {
  testing::expect_throw_with<std::invalid_argument>([] { tile_grid({}, 2); }, "tile_grid: no pictures");
  testing::expect_throw_with<std::invalid_argument>([] { tile_grid({RasterImage(1, 1, 1)}, 0); }, "columns 0 < 1");
  testing::expect_throw_with<std::invalid_argument>([] { tile_grid({RasterImage(1, 1, 1)}, 1, -1); }, "gap -1 < 0");
  RasterImage broken(2, 2, 3);
  broken.pixels.resize(5);
  testing::expect_throw_with<std::invalid_argument>([&] { tile_grid({RasterImage(1, 1, 1), broken}, 2); },
                                                    "picture 1 is not a valid 2x2x3 image");
}

}  // namespace
}  // namespace medtrain::metrics
