#pragma once
// `medtrain infer` for 3D segmentation bundles trained at a voxel size
// (model card slice_spacing / pixel_spacing): each input is a series folder
// (or a multi-frame volume file named in a manifest), segmented whole by
// sliding window (volume_segmentation.h) and written as masks on the series'
// own grid, in the formats asked for:
//   npy    <out stem>_masks/<index>.npy       uint8 [D, H, W], slice k = the series' k-th slice in
//                                              position order
//   seg    <out stem>_masks/<index>.seg.dcm   DICOM SEG over the series (mask_outputs.h)
//   nifti  <out stem>_masks/<index>.nii.gz    NIfTI-1 with the series' geometry
// The masks folder must not exist (never overwritten). A series that cannot
// be read (missing slices, uneven spacing, mixed orientations: series_volume.h)
// is skipped; one whose memory estimate exceeds --max-volume-gb fails (is not
// predicted); under --on-error fail either stops the run with a DataError
// naming the series.
#include <string>

#include "trainer/export/inference.h"

namespace medtrain::exporter {

InferSummary run_volume_inference(const InferOptions& options, LoadedModel& model, InferSummary summary);

}  // namespace medtrain::exporter
