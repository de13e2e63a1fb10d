#include "trainer/metrics/cairo_canvas.h"

#include <stdexcept>

namespace medtrain::metrics::detail {

CairoCanvas::CairoCanvas(int width, int height) : width_(width), height_(height) {
  surface_ = cairo_image_surface_create(CAIRO_FORMAT_RGB24, width, height);
  if (cairo_surface_status(surface_) != CAIRO_STATUS_SUCCESS) {
    const std::string why = cairo_status_to_string(cairo_surface_status(surface_));
    cairo_surface_destroy(surface_);
    throw std::runtime_error("chart: cairo cannot make a " + std::to_string(width) + "x" + std::to_string(height) +
                             " surface: " + why);
  }
  cr_ = cairo_create(surface_);
  cairo_set_source_rgb(cr_, 1, 1, 1);
  cairo_paint(cr_);
}

CairoCanvas::~CairoCanvas() {
  cairo_destroy(cr_);
  cairo_surface_destroy(surface_);
}

void CairoCanvas::colour(const Rgb& c, double alpha) {
  cairo_set_source_rgba(cr_, c[0] / 255.0, c[1] / 255.0, c[2] / 255.0, alpha);
}

void CairoCanvas::font(double size, bool bold) {
  cairo_select_font_face(cr_, "DejaVu Sans", CAIRO_FONT_SLANT_NORMAL,
                         bold ? CAIRO_FONT_WEIGHT_BOLD : CAIRO_FONT_WEIGHT_NORMAL);
  cairo_set_font_size(cr_, size);
}

double CairoCanvas::text_width(const std::string& text) {
  cairo_text_extents_t e;
  cairo_text_extents(cr_, text.c_str(), &e);
  return e.x_advance;
}

void CairoCanvas::text(const std::string& text, double x, double y, double ax, double angle) {
  cairo_font_extents_t f;
  cairo_font_extents(cr_, &f);
  cairo_save(cr_);
  cairo_translate(cr_, x, y);
  cairo_rotate(cr_, angle);
  // Centre the line box (ascent above, descent below the baseline) on y.
  cairo_move_to(cr_, -ax * text_width(text), (f.ascent - f.descent) / 2);
  cairo_show_text(cr_, text.c_str());
  cairo_restore(cr_);
}

RasterImage CairoCanvas::to_raster() {
  cairo_surface_flush(surface_);
  const unsigned char* data = cairo_image_surface_get_data(surface_);
  const int stride = cairo_image_surface_get_stride(surface_);
  RasterImage out(width_, height_, 3);
  for (int y = 0; y < height_; ++y) {
    // RGB24: one native-endian uint32 per pixel, 0x00RRGGBB.
    const auto* row = reinterpret_cast<const uint32_t*>(data + static_cast<ptrdiff_t>(y) * stride);
    for (int x = 0; x < width_; ++x) {
      uint8_t* px = out.at(x, y);
      px[0] = static_cast<uint8_t>(row[x] >> 16);
      px[1] = static_cast<uint8_t>(row[x] >> 8);
      px[2] = static_cast<uint8_t>(row[x]);
    }
  }
  return out;
}

}  // namespace medtrain::metrics::detail
