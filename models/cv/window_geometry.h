#pragma once
// MONAI's sliding-window geometry (monai.inferers.utils, MONAI 1.6.1): where
// the windows go along an axis and how their outputs are weighted when they
// are blended. Shared by whole-volume segmentation
// (trainer/export/sliding_window) and occlusion sensitivity (occlusion.cpp),
// which MONAI builds on the same two functions.
#include <ATen/core/Tensor.h>

#include <cstdint>
#include <vector>

namespace medtrain::models::cv {

// The window start offsets along one axis of `size` voxels (after padding to
// at least `roi`), as _get_scan_interval and dense_patch_slices place them:
// interval int(roi * (1 - overlap)) (at least 1; roi when size == roi), the
// last window moved back to end at the border.
std::vector<int64_t> window_starts(int64_t size, int64_t roi, double overlap);

// compute_importance_map over a window of extent `roi` (one entry per
// spatial axis), float32: ones, or with `gaussian` the separable Gaussian of
// sigma roi * sigma_scale built axis by axis as MONAI does; clamped below at
// max(min, 1e-3).
at::Tensor importance_map(const std::vector<int64_t>& roi, bool gaussian, double sigma_scale);

}  // namespace medtrain::models::cv
