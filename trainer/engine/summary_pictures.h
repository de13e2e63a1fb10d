#pragma once
// The pictures and captions of ImageSummaries (image_summaries.h), from
// tensors already on the CPU: one grid per batch, one strip per sample.
//
// A sample's strip, left to right:
//   2D              the image
//   3D              its middle axial, coronal and sagittal slices (display_image.h)
//   segmentation    then the target mask over the image, then (validation) the
//                   predicted mask, as coloured overlays (overlay.h; class 0 not drawn);
//                   for volumes each of them as the three middle slices
// Strips are laid out about four panels wide. Panels larger than
// kMaxPanelSide on a side are shrunk to it (antialiased; masks nearest) so a
// 512 x 512 batch does not add megabytes to the event file at every log.
#include <torch/types.h>

#include <cstdint>
#include <string>
#include <vector>

#include "trainer/engine/task.h"
#include "trainer/metrics/display_image.h"
#include "trainer/metrics/raster_image.h"

namespace medtrain::engine {

inline constexpr int64_t kMaxPanelSide = 256;

struct BatchPicture {
  torch::Tensor images;     // [N, C, H, W] or [N, C, D, H, W], as the model receives them
  torch::Tensor targets;    // segmentation: class maps [N, (D,) H, W]; else undefined
  torch::Tensor predicted;  // segmentation, validation: class maps like targets; else undefined
};

// The grid of every sample of `batch` (N >= 1). Throws std::invalid_argument
// for images of another rank or masks that do not match them.
metrics::RasterImage batch_picture(const BatchPicture& batch, const metrics::DisplayRange& range);

// Class k as the run names it: data.label_names[k], else the number.
std::string class_name(const std::vector<std::string>& names, int64_t k);

// One caption per sample of classification targets (or predictions in the
// same form): multiclass int64 [N] -> the class name; multilabel [N, L]
// (1 = present, > 0.5) -> the names present joined by "+", "none" when none is.
std::vector<std::string> class_captions(Task task, const torch::Tensor& targets, const std::vector<std::string>& names);

// Predictions from classification logits in the form of the targets:
// multiclass [N, K] -> argmax int64 [N]; multilabel [N, L] -> float 0/1 (logit > 0).
torch::Tensor predicted_classes(Task task, const torch::Tensor& logits);

}  // namespace medtrain::engine
