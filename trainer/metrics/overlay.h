#pragma once
// Colour on top of a grayscale picture: segmentation masks and saliency maps
// shown over the image the model saw (TensorBoard, PNG overlays, Secondary
// Capture).
#include <array>
#include <cstdint>
#include <vector>

#include "trainer/metrics/raster_image.h"

namespace medtrain::metrics {

// A fixed, distinguishable colour per class (class 0, background, is never
// drawn by mask_overlay). Classes past the palette wrap around.
std::array<uint8_t, 3> class_colour(int64_t k);

// The "jet"-style colour of v in [0, 1] (clamped; NaN is black): blue -> cyan
// -> yellow -> red, the map Grad-CAM pictures are usually shown in.
std::array<uint8_t, 3> heat_colour(float v);

// RGB: `base` (gray or RGB) with each pixel whose label > 0 blended with
// class_colour(label) at `alpha`. labels: base.height * base.width, row-major.
// Throws std::invalid_argument when sizes disagree.
RasterImage mask_overlay(const RasterImage& base, const std::vector<int64_t>& labels, double alpha = 0.4);

// RGB: `base` blended with heat_colour(heat) at alpha * heat (cold areas stay
// the image, hot ones turn red). heat: base.height * base.width values in
// [0, 1], row-major. Throws std::invalid_argument when sizes disagree.
RasterImage heatmap_overlay(const RasterImage& base, const std::vector<float>& heat, double alpha = 0.5);

// Pictures side by side in rows of `columns`, `gap` pixels apart on black;
// all converted to the largest channel count among them, each placed top-left
// in a cell as large as the largest picture. Throws std::invalid_argument when
// `tiles` is empty or columns < 1.
RasterImage tile_grid(const std::vector<RasterImage>& tiles, int64_t columns, int64_t gap = 2);

}  // namespace medtrain::metrics
