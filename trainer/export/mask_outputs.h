#pragma once
// Segmentation masks in the formats that leave the hospital's research
// pipeline: DICOM SEG (a PACS viewer shows it over the source series) and
// NIfTI (.nii.gz, for research tools). `medtrain infer` writes them for
// volume bundles (--mask-format); the .npy masks stay the default.
//
// Both writers take the mask in the series' volume order (slice k of the mask
// is series.files[k], see data/dicom/series_volume.h) and the series'
// geometry, and write to a temporary name renamed into place, so no
// half-written file is ever left under `out_file`. Errors are UserError
// (an existing target) or DataError (a source file unreadable) naming the path.
#include <ATen/core/Tensor.h>

#include <filesystem>
#include <string>
#include <vector>

#include "data/dicom/series_volume.h"

namespace medtrain::exporter {

struct SegWriteOptions {
  // Class names, index = class; class 0 is background and gets no segment.
  // Segment k (1-based) is class k and carries label_names[k].
  std::vector<std::string> label_names;
  bool fractional = false;      // FRACTIONAL (PROBABILITY) instead of BINARY
  std::string algorithm_name;   // the bundle's architecture, e.g. "unet3d"
  std::string algorithm_version;  // medtrain's version
  std::string series_description = "medtrain segmentation";
};

// labels:        uint8 [D, H, W], the class of each voxel (always given).
// probabilities: for fractional SEG, uint8 [C, D, H, W]: the class
//                probability scaled to 0..255 (the SEG's MaximumFractionalValue);
//                undefined for binary.
// series:        the source series: files (referenced instances, one per
//                slice, in volume order), origin, orientation, spacing. Its
//                voxels tensor is not read and may be undefined.
// Frames are written for every (segment, slice) pair, in DICOM's usual order
// (segment-major), including empty ones, so a viewer sees the whole grid.
void write_dicom_seg(const std::filesystem::path& out_file, const at::Tensor& labels,
                     const at::Tensor& probabilities, const data::SeriesVolume& series,
                     const SegWriteOptions& options);

// labels uint8 [D, H, W] as NIfTI-1 (.nii.gz), uint8 voxels, with the qform
// and sform set from the series geometry (DICOM's LPS patient axes converted
// to NIfTI's RAS), so that nibabel/ITK place it over the source volume.
void write_nifti(const std::filesystem::path& out_file, const at::Tensor& labels,
                 const data::SeriesVolume& series);

}  // namespace medtrain::exporter
