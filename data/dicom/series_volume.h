#pragma once
// A DICOM series (a folder of single-frame grey slices) as one 3D volume.
//
// Slices are ordered by their Image Position Patient projected on the slice
// normal n = row direction x column direction (Image Orientation Patient), so
// the order does not depend on file names or Instance Number, and the volume
// runs along +n. All slices must share Series Instance UID (when present),
// size, orientation (within 1e-4) and pixel spacing; the gaps between
// consecutive positions must agree within 10% of their median (a missing
// slice is an error, not silently stretched). Any violation is a DataError
// naming the folder, the offending file and the attribute.
#include <torch/types.h>

#include <array>
#include <string>
#include <vector>

namespace medtrain::data {

struct SeriesVolume {
  torch::Tensor voxels;                // float32 [D, H, W], CPU, modality values (HU for CT)
  std::array<double, 3> spacing{};     // mm between slices, rows, columns (z, y, x)
  std::array<double, 3> origin{};      // Image Position Patient of the first slice
  std::array<double, 6> orientation{};  // Image Orientation Patient (row dir, column dir)
  std::vector<std::string> files;      // in volume order
};

// Reads every regular file in `folder` (not recursing; hidden files and
// DICOMDIR are skipped). Throws DataError as described above; also when the
// folder is missing or empty, and when a slice lacks position or orientation.
// A regular file instead of a folder is read as one multi-frame volume
// (enhanced CT/MR, RT dose: multiframe_volume.h).
SeriesVolume read_series_volume(const std::string& folder);

// Resamples [D, H, W] to new voxel spacing (z, y, x in mm) with trilinear
// interpolation (align_corners=false); the size is resampled_size's. Throws
// DataError for a non-positive target spacing.
SeriesVolume resample_volume(const SeriesVolume& volume, const std::array<double, 3>& target_spacing);

// The grid `shape` voxels at `spacing` become at `target_spacing`:
// round(shape * spacing / target), at least 1 per axis. Throws DataError for a
// non-positive target spacing.
std::array<int64_t, 3> resampled_size(const std::array<int64_t, 3>& shape, const std::array<double, 3>& spacing,
                                      const std::array<double, 3>& target_spacing);

}  // namespace medtrain::data
