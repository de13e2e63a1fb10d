#pragma once
// What the two mask writers (write_dicom_seg, write_nifti in mask_outputs.h)
// share: checking the mask against the series before any work, and the
// temporary-name-then-rename that keeps a half-written file from ever sitting
// under the target name.
#include <ATen/core/Tensor.h>

#include <cstdint>
#include <filesystem>
#include <string>

#include "data/dicom/series_volume.h"

namespace medtrain::exporter::detail {

// Throws UserError naming `out_file` when it already exists (masks are never
// overwritten). Creates its parent folder when missing.
void prepare_mask_target(const std::filesystem::path& out_file);

// How the mask's slices must match the series.
enum class SliceSource {
  kOneFilePerSlice,  // D == series.files.size() (a SEG references each slice's file)
  kGeometryOnly,     // D == the series' depth: its voxels' when given, else its file
                     // count unless it is one (multi-frame) file whose depth is unknown
};

// Throws UserError naming `out_file` unless `labels` is uint8 [D, H, W] with D
// as `slices` requires, and unless every class in it is below `class_count`
// (when class_count > 0).
void check_mask_labels(const std::filesystem::path& out_file, const at::Tensor& labels,
                       const data::SeriesVolume& series, int64_t class_count, SliceSource slices);

// A hidden sibling of `out_file` in the same folder (so the rename stays on one
// file system), ending with out_file's own name so that extension-driven
// libraries (.nii.gz) still see it.
std::filesystem::path temporary_sibling(const std::filesystem::path& out_file);

// Renames `temp` to `out_file` without replacing a file that appeared there
// meanwhile; removes `temp` and throws UserError naming out_file on failure.
void publish_mask_file(const std::filesystem::path& temp, const std::filesystem::path& out_file);

// Removes `temp` on scope exit unless released: the writers' error paths leave
// nothing behind.
class TempFileGuard {
 public:
  explicit TempFileGuard(std::filesystem::path temp) : temp_(std::move(temp)) {}
  ~TempFileGuard();
  TempFileGuard(const TempFileGuard&) = delete;
  TempFileGuard& operator=(const TempFileGuard&) = delete;
  void release() { temp_.clear(); }

 private:
  std::filesystem::path temp_;
};

}  // namespace medtrain::exporter::detail
