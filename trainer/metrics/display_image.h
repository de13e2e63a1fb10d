#pragma once
// A sample as the model receives it, turned back into a picture for people:
// the TensorBoard image summaries (trainer/engine/image_summaries.h) show the
// training batch after windowing, normalisation and augmentation, so a wrong
// window, a flipped MONOCHROME1 or a broken augmentation is visible at once.
//
// The data pipeline (data/dicom/dicom_dataset.cpp) maps each pixel to
// x = (v - data.mean) / data.std, v = the windowed value in [0, 1] (plus the
// small intensity jitter of augmentation). Display undoes that:
// v = x * std + mean, clamped to [0, 1], shown as round(255 v). A pixel at the
// window's lower edge is black, at its upper edge white, whatever data.mean
// and data.std are, and whatever bit depth the DICOM stored.
#include <torch/types.h>

#include <array>
#include <cstdint>
#include <vector>

#include "trainer/metrics/raster_image.h"

namespace medtrain::metrics {

// data.mean and data.std of the run (the normalisation to undo).
struct DisplayRange {
  double mean = 0.0;
  double std = 1.0;
};

// One 2D picture of `image` [C, H, W] (any device, any layout):
//   floating point: de-normalised with `range` as above;
//   integer (stored values, e.g. 16-bit): stretched from the picture's own
//   minimum (black) to its maximum (white), since nothing says how to window
//   them; a constant picture is black.
// C = 3 gives RGB (channels R, G, B in that order); any other C the first
// channel in gray. Throws std::invalid_argument for another rank or an empty
// picture.
RasterImage display_image(const torch::Tensor& image, const DisplayRange& range);

// The middle slice along each axis of a volume [C, D, H, W] (or [D, H, W],
// e.g. a mask), each keeping the leading channel dimension when there is one:
//   axial    [C, H, W] at d = D / 2
//   coronal  [C, D, W] at h = H / 2
//   sagittal [C, D, H] at w = W / 2
// (slice 0 of the series at the top of coronal and sagittal). Throws
// std::invalid_argument for fewer than 3 dimensions.
std::array<torch::Tensor, 3> middle_slices(const torch::Tensor& volume);

// A class map [H, W] (integer or float holding class indices) as the
// row-major labels mask_overlay (overlay.h) takes. Throws
// std::invalid_argument unless the map is 2D.
std::vector<int64_t> mask_labels(const torch::Tensor& mask);

}  // namespace medtrain::metrics
