#include "data/volume_fit.h"

#include <algorithm>
#include <cmath>

#include "data/data_error.h"
#include "data/dicom/mask_file.h"
#include "data/dicom/series_volume.h"

namespace medtrain::data {
namespace {

std::string shape_text(const std::array<int64_t, 3>& s) {
  return std::to_string(s[0]) + "x" + std::to_string(s[1]) + "x" + std::to_string(s[2]);
}

// The centre of x, cropped or padded with `fill` to `want` on each axis; an odd
// remainder goes to the end (MONAI's ResizeWithPadOrCrop does the same).
torch::Tensor crop_or_pad(const torch::Tensor& x, const std::array<int64_t, 3>& want, double fill) {
  torch::Tensor out = torch::full({want[0], want[1], want[2]}, fill, x.options());
  torch::Tensor src = x, dst = out;
  for (int64_t k = 0; k < 3; ++k) {
    const int64_t have = x.size(k), n = std::min(have, want[k]);
    src = src.narrow(k, (have - n) / 2, n);
    dst = dst.narrow(k, (want[k] - n) / 2, n);
  }
  dst.copy_(src);
  return out;
}

// The grid the volume is resampled to; the volume's own spacing must be known.
std::array<int64_t, 3> fitted_grid(const std::array<int64_t, 3>& shape, const std::array<double, 3>& spacing,
                                   const VolumeFit& fit, const std::string& where) {
  for (const double s : spacing) {
    if (!(s > 0)) {
      throw DataError(where + ": voxel spacing unknown (no Pixel Spacing or slice positions), so it cannot be "
                      "resampled to data.slice_spacing / data.pixel_spacing");
    }
  }
  return resampled_size(shape, spacing, fit.spacing);
}

}  // namespace

torch::Tensor fit_volume(const torch::Tensor& voxels, const std::array<double, 3>& spacing, const VolumeFit& fit,
                         const std::string& where) {
  if (!fit.enabled()) return voxels;
  const std::array<int64_t, 3> shape{voxels.size(0), voxels.size(1), voxels.size(2)};
  torch::Tensor x = voxels;
  if (fitted_grid(shape, spacing, fit, where) != shape) {
    SeriesVolume v;
    v.voxels = voxels;
    v.spacing = spacing;
    x = resample_volume(v, fit.spacing).voxels;
  }
  // The minimum is only needed where the grid is smaller than the fit.
  bool pads = false;
  for (int64_t k = 0; k < 3; ++k) pads = pads || x.size(k) < fit.shape[k];
  return crop_or_pad(x, fit.shape, pads ? voxels.min().item<double>() : 0.0);
}

torch::Tensor fit_mask(const torch::Tensor& mask, const std::array<int64_t, 3>& volume_shape,
                       const std::array<double, 3>& spacing, const VolumeFit& fit, const std::string& where) {
  if (!fit.enabled()) return mask;
  const std::array<int64_t, 3> shape{mask.size(0), mask.size(1), mask.size(2)};
  if (shape != volume_shape) {
    throw DataError(where + ": mask is " + shape_text(shape) + ", its volume " + shape_text(volume_shape) +
                    "; with data.slice_spacing / pixel_spacing a mask must be on its volume's voxels");
  }
  const auto n = fitted_grid(shape, spacing, fit, where);
  return crop_or_pad(resize_mask(mask, std::vector<int64_t>(n.begin(), n.end())), fit.shape, 0);
}

}  // namespace medtrain::data
