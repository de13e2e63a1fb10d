#pragma once
// Volumes at a fixed voxel spacing (data.slice_spacing, data.pixel_spacing):
// a series is resampled to the target spacing (trilinear; masks nearest
// neighbour), then centre-cropped or padded to depth x size x size. Unlike a
// resize to that shape, every sample's voxel then has the same physical size
// (MONAI's Spacing + ResizeWithPadOrCrop), which is what CT/MR segmentation
// models are trained at. Padding uses the volume's minimum (air in CT, the
// background in MR), so it windows to black; masks pad with class 0.
#include <torch/types.h>

#include <array>
#include <cstdint>
#include <string>

namespace medtrain::data {

struct VolumeFit {
  std::array<double, 3> spacing{};   // target mm: between slices, rows, columns; all 0 = off
  std::array<int64_t, 3> shape{};    // depth, rows, cols after the crop/pad
  bool enabled() const { return spacing[0] > 0; }
};

// float32 [D, H, W] modality values at `spacing` -> float32 fit.shape.
torch::Tensor fit_volume(const torch::Tensor& voxels, const std::array<double, 3>& spacing, const VolumeFit& fit,
                         const std::string& where);

// int64 [D, H, W] class indices on the volume's grid (`volume_shape`, checked)
// -> int64 fit.shape, on the same voxels as fit_volume's result.
torch::Tensor fit_mask(const torch::Tensor& mask, const std::array<int64_t, 3>& volume_shape,
                       const std::array<double, 3>& spacing, const VolumeFit& fit, const std::string& where);

}  // namespace medtrain::data
