#include "trainer/metrics/overlay.h"

#include <algorithm>
#include <cmath>
#include <stdexcept>
#include <string>

namespace medtrain::metrics {
namespace {

// Class 1 (the first foreground class of a mask) is red, the colour a
// radiologist expects a finding in; the rest are saturated hues that stay
// apart from each other and from gray tissue.
constexpr std::array<std::array<uint8_t, 3>, 10> kPalette = {{
    {31, 119, 180},   // 0 blue
    {230, 25, 45},    // 1 red
    {40, 190, 60},    // 2 green
    {255, 140, 0},    // 3 orange
    {150, 80, 200},   // 4 purple
    {0, 200, 220},    // 5 cyan
    {240, 50, 200},   // 6 magenta
    {255, 225, 25},   // 7 yellow
    {140, 86, 75},    // 8 brown
    {120, 200, 255},  // 9 sky
}};

uint8_t to_byte(double v) { return static_cast<uint8_t>(std::lround(std::clamp(v, 0.0, 255.0))); }

void check_base(const RasterImage& base, size_t values, const char* fn, const char* what) {
  if (base.channels != 1 && base.channels != 3 && base.channels != 4) {
    throw std::invalid_argument(std::string(fn) + ": base image has " + std::to_string(base.channels) +
                                " channels; expected 1 (gray), 3 (RGB) or 4 (RGBA)");
  }
  const auto pixels = static_cast<size_t>(base.width * base.height);
  if (base.width < 0 || base.height < 0 || base.pixels.size() != pixels * base.channels) {
    throw std::invalid_argument(std::string(fn) + ": base image buffer does not match its " +
                                std::to_string(base.width) + "x" + std::to_string(base.height) + "x" +
                                std::to_string(base.channels) + " size");
  }
  if (values != pixels) {
    throw std::invalid_argument(std::string(fn) + ": " + std::to_string(values) + " " + what + " for a " +
                                std::to_string(base.width) + "x" + std::to_string(base.height) + " image (" +
                                std::to_string(pixels) + " pixels)");
  }
}

void check_alpha(double alpha, const char* fn) {
  if (!(alpha >= 0.0 && alpha <= 1.0)) {
    throw std::invalid_argument(std::string(fn) + ": alpha " + std::to_string(alpha) + " is not in [0, 1]");
  }
}

// Pixel i of a gray, RGB or RGBA image as RGB (alpha dropped).
std::array<uint8_t, 3> rgb_at(const RasterImage& img, size_t i) {
  const uint8_t* p = img.pixels.data() + i * img.channels;
  if (img.channels == 1) return {p[0], p[0], p[0]};
  return {p[0], p[1], p[2]};
}

// out = (1 - a) * under + a * over, per channel, rounded.
void blend(uint8_t* out, const std::array<uint8_t, 3>& under, const std::array<uint8_t, 3>& over, double a) {
  for (int c = 0; c < 3; ++c) out[c] = to_byte((1.0 - a) * under[c] + a * over[c]);
}

// Pixel i of `img` written as `channels` channels (gray replicated, alpha 255
// added or dropped).
void convert_pixel(const RasterImage& img, size_t i, uint8_t* out, int channels) {
  const uint8_t* p = img.pixels.data() + i * img.channels;
  if (channels == 1) {
    out[0] = p[0];  // only when every tile is gray
    return;
  }
  const auto rgb = rgb_at(img, i);
  std::copy(rgb.begin(), rgb.end(), out);
  if (channels == 4) out[3] = img.channels == 4 ? p[3] : 255;
}

}  // namespace

std::array<uint8_t, 3> class_colour(int64_t k) {
  const auto n = static_cast<int64_t>(kPalette.size());
  return kPalette[static_cast<size_t>(((k % n) + n) % n)];
}

std::array<uint8_t, 3> heat_colour(float v) {
  if (std::isnan(v)) return {0, 0, 0};
  const double x = std::clamp(static_cast<double>(v), 0.0, 1.0);
  // The classic jet: each channel a tent of height 1.5 clipped to [0, 1],
  // centred at 3/4 (red), 1/2 (green) and 1/4 (blue).
  auto tent = [x](double centre) { return to_byte(255.0 * std::clamp(1.5 - std::abs(4.0 * x - 4.0 * centre), 0.0, 1.0)); };
  return {tent(0.75), tent(0.5), tent(0.25)};
}

RasterImage mask_overlay(const RasterImage& base, const std::vector<int64_t>& labels, double alpha) {
  check_base(base, labels.size(), "mask_overlay", "labels");
  check_alpha(alpha, "mask_overlay");
  RasterImage out(base.width, base.height, 3);
  for (size_t i = 0; i < labels.size(); ++i) {
    const auto under = rgb_at(base, i);
    if (labels[i] > 0) {
      blend(out.pixels.data() + 3 * i, under, class_colour(labels[i]), alpha);
    } else {
      std::copy(under.begin(), under.end(), out.pixels.data() + 3 * i);
    }
  }
  return out;
}

RasterImage heatmap_overlay(const RasterImage& base, const std::vector<float>& heat, double alpha) {
  check_base(base, heat.size(), "heatmap_overlay", "heat values");
  check_alpha(alpha, "heatmap_overlay");
  RasterImage out(base.width, base.height, 3);
  for (size_t i = 0; i < heat.size(); ++i) {
    const float h = heat[i];
    const double weight = std::isnan(h) ? 0.0 : alpha * std::clamp(static_cast<double>(h), 0.0, 1.0);
    blend(out.pixels.data() + 3 * i, rgb_at(base, i), heat_colour(h), weight);
  }
  return out;
}

RasterImage tile_grid(const std::vector<RasterImage>& tiles, int64_t columns, int64_t gap) {
  if (tiles.empty()) throw std::invalid_argument("tile_grid: no pictures");
  if (columns < 1) throw std::invalid_argument("tile_grid: columns " + std::to_string(columns) + " < 1");
  if (gap < 0) throw std::invalid_argument("tile_grid: gap " + std::to_string(gap) + " < 0");
  int64_t cell_w = 0, cell_h = 0;
  int channels = 1;
  for (size_t t = 0; t < tiles.size(); ++t) {
    const RasterImage& tile = tiles[t];
    if ((tile.channels != 1 && tile.channels != 3 && tile.channels != 4) || tile.width < 0 || tile.height < 0 ||
        tile.pixels.size() != static_cast<size_t>(tile.width * tile.height * tile.channels)) {
      throw std::invalid_argument("tile_grid: picture " + std::to_string(t) + " is not a valid " +
                                  std::to_string(tile.width) + "x" + std::to_string(tile.height) + "x" +
                                  std::to_string(tile.channels) + " image");
    }
    cell_w = std::max(cell_w, tile.width);
    cell_h = std::max(cell_h, tile.height);
    channels = std::max(channels, tile.channels);
  }
  // Fewer pictures than columns: no empty columns on the right.
  const int64_t cols = std::min<int64_t>(columns, static_cast<int64_t>(tiles.size()));
  const int64_t rows = (static_cast<int64_t>(tiles.size()) + cols - 1) / cols;
  RasterImage out(cols * cell_w + (cols - 1) * gap, rows * cell_h + (rows - 1) * gap, channels);
  if (channels == 4) {  // "on black": opaque black, not transparent
    for (size_t i = 3; i < out.pixels.size(); i += 4) out.pixels[i] = 255;
  }
  for (size_t t = 0; t < tiles.size(); ++t) {
    const RasterImage& tile = tiles[t];
    const int64_t x0 = static_cast<int64_t>(t) % cols * (cell_w + gap);
    const int64_t y0 = static_cast<int64_t>(t) / cols * (cell_h + gap);
    for (int64_t y = 0; y < tile.height; ++y) {
      for (int64_t x = 0; x < tile.width; ++x) {
        convert_pixel(tile, static_cast<size_t>(y * tile.width + x), out.at(x0 + x, y0 + y), channels);
      }
    }
  }
  return out;
}

}  // namespace medtrain::metrics
