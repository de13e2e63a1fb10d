#pragma once
// Whole-volume segmentation of one series with a 3D bundle trained at a voxel
// size (model card slice_spacing / pixel_spacing): the series' modality
// values are resampled to the training spacing (trilinear, as training's
// data/volume_fit did), windowed and normalised as in training, run through
// the model by sliding window (sliding_window.h, the bundle's ROI), and the
// softmax probabilities resampled back to the series' own grid (trilinear,
// align_corners=false) before the argmax, so the mask has one slice per
// source slice (slice k = series.files[k]).
//
// Memory: volume_segmentation_bytes() estimates the peak of everything
// allocated here (Note [Volume memory estimate]); the caller refuses a series
// whose estimate exceeds its limit before calling segment_volume.
#include <ATen/core/Tensor.h>
#include <c10/core/Device.h>

#include <array>
#include <cstdint>

#include "data/dicom/series_volume.h"
#include "models/image_model.h"
#include "trainer/export/model_card.h"
#include "trainer/export/sliding_window.h"

namespace medtrain::exporter {

struct VolumeSegmentation {
  at::Tensor labels;         // uint8 [D, H, W], the series' grid: the class of each voxel
  at::Tensor probabilities;  // uint8 [K, D, H, W], round(255 p); only when asked for, else undefined
  std::vector<int64_t> pixels;  // voxels per class
};

// The model grid: the series' shape at the bundle's training spacing.
std::array<int64_t, 3> model_grid(const std::array<int64_t, 3>& shape, const std::array<double, 3>& spacing,
                                  const ModelCard& card);

// Peak bytes segment_volume allocates for a series of `shape` at `spacing`
// (besides the series' own voxels and the model's weights).
int64_t volume_segmentation_bytes(const std::array<int64_t, 3>& shape, const std::array<double, 3>& spacing,
                                  const ModelCard& card, const SlidingWindowOptions& window, bool probabilities);

// window.roi and window.cval are taken from the card (cval: the normalised
// value of a black voxel, what training padded with). DataError naming the
// series when its spacing is unknown.
VolumeSegmentation segment_volume(const data::SeriesVolume& series, models::ImageModel& model,
                                  const c10::Device& device, const ModelCard& card, SlidingWindowOptions window,
                                  bool probabilities, const std::string& where);

}  // namespace medtrain::exporter
