#pragma once
// An 8-bit picture for people to look at: TensorBoard image summaries, PNG
// overlays, charts, the run report. Row-major, channels interleaved
// (1 gray, 3 RGB, 4 RGBA), no padding between rows.
#include <cstddef>
#include <cstdint>
#include <vector>

namespace medtrain::metrics {

struct RasterImage {
  int64_t width = 0;
  int64_t height = 0;
  int channels = 1;
  std::vector<uint8_t> pixels;  // height * width * channels

  RasterImage() = default;
  RasterImage(int64_t w, int64_t h, int c, uint8_t fill = 0)
      : width(w), height(h), channels(c), pixels(static_cast<size_t>(w * h * c), fill) {}
  uint8_t* at(int64_t x, int64_t y) { return pixels.data() + (y * width + x) * channels; }
  const uint8_t* at(int64_t x, int64_t y) const { return pixels.data() + (y * width + x) * channels; }
};

}  // namespace medtrain::metrics
