#pragma once
// PNG through libpng (Debian libpng-dev): no hand-written encoder.
#include <string>

#include "trainer/metrics/raster_image.h"

namespace medtrain::metrics {

// The PNG file bytes of `image` (8-bit gray, RGB or RGBA). Throws
// std::invalid_argument for an empty image, another channel count or a pixel
// buffer of the wrong size, std::runtime_error when libpng fails.
std::string encode_png(const RasterImage& image);

// Decodes 8-bit gray, gray+alpha, RGB or RGBA PNG bytes (palette and 16-bit
// are expanded/stripped to 8-bit; gray+alpha, and gray with a transparent
// colour, come back as RGBA since RasterImage has no 2-channel form). Throws
// std::runtime_error naming `what` (a file name, a tag) when the bytes are not
// a PNG, are cut short or are damaged.
RasterImage decode_png(const std::string& bytes, const std::string& what = "PNG");

}  // namespace medtrain::metrics
