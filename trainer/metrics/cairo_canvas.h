#pragma once
// A cairo RGB24 drawing surface that owns its context, with the few text
// helpers the charts share, and the copy into an RGB RasterImage. Internal to
// chart.cpp and confusion_chart.cpp (not a general drawing API).
#include <cairo.h>

#include <array>
#include <cstdint>
#include <string>

#include "trainer/metrics/raster_image.h"

namespace medtrain::metrics::detail {

using Rgb = std::array<uint8_t, 3>;

class CairoCanvas {
 public:
  // White, width x height. Throws std::runtime_error when cairo cannot make
  // the surface (out of memory).
  CairoCanvas(int width, int height);
  ~CairoCanvas();
  CairoCanvas(const CairoCanvas&) = delete;
  CairoCanvas& operator=(const CairoCanvas&) = delete;

  cairo_t* cr() { return cr_; }
  void colour(const Rgb& c, double alpha = 1.0);
  // Text in the chart font (DejaVu Sans through fontconfig, any sans when it
  // is missing) at `size` px.
  void font(double size, bool bold = false);
  double text_width(const std::string& text);
  // Draws `text` with its horizontal anchor at x (ax 0 left, 0.5 centre,
  // 1 right) and vertically centred on y, rotated by `angle` radians.
  void text(const std::string& text, double x, double y, double ax, double angle = 0.0);
  // Flushes the drawing and copies it out as 8-bit RGB.
  RasterImage to_raster();

 private:
  cairo_surface_t* surface_ = nullptr;
  cairo_t* cr_ = nullptr;
  int width_, height_;
};

}  // namespace medtrain::metrics::detail
