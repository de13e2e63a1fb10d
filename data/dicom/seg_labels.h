#pragma once
// DICOM Segmentation (SEG) instances as segmentation labels: a SEG file in a
// manifest's mask column becomes the int64 class-index volume of the series it
// annotates, so public segmentation datasets stored as DICOM SEG train
// without a conversion step (docs/dicom.md, "Segmentations (SEG) as labels").
//
// Segment -> class: with label names (data.label_names / pack --label-names,
// index = class, 0 = background) each segment's SegmentLabel (0062,0005) must
// be one of the names (compared ignoring case); without names the
// SegmentNumber is the class. Where segments overlap, a voxel takes the
// largest class among them (independent of frame order; list nested
// structures, e.g. tumour inside organ, after their container). Voxels in no
// segment are 0. FRACTIONAL segments count where the value is at least half
// of MaximumFractionalValue.
//
// Frame -> slice: by the frame's ReferencedSOPInstanceUID (Derivation Image
// > Source Image Sequence) when the series has one file per slice, else by
// its ImagePositionPatient (PlanePositionSequence) projected on the series'
// slice normal. Frames must have the series' rows, columns and orientation.
#include <torch/types.h>

#include <cstdint>
#include <string>
#include <vector>

#include "data/dicom/series_volume.h"

namespace medtrain::data {

// True when `path` is a readable DICOM file whose SOPClassUID is Segmentation
// Storage (1.2.840.10008.5.1.4.1.1.66.4); header only. False for .npy files.
bool is_dicom_seg(const std::string& path);

// int64 [D, H, W] on series.voxels' grid. Throws DataError naming the SEG
// file: not a SEG; it references another series (the referenced series is
// absent: names the UID it wants and the one the folder holds); a frame
// references a SOP instance not in the series, or a position off its slices;
// a segment label not among label_names; a size or orientation mismatch;
// compressed pixel data DCMTK cannot decode.
torch::Tensor read_seg_labels(const std::string& seg_path, const SeriesVolume& series,
                              const std::vector<std::string>& label_names);

// The mask of a 2D sample whose image is `image_path`: a SEG through the
// frames that reference that image (frames of the series' other images are
// skipped; none at all is an empty mask, as SEG writers omit empty frames),
// int64 [H, W]; anything else through read_mask.
torch::Tensor read_image_mask(const std::string& path, const std::string& image_path, int64_t num_classes,
                              const std::vector<std::string>& label_names);

// The mask of a volume sample: a SEG file through read_seg_labels (checked
// against num_classes like read_mask), anything else through read_mask.
torch::Tensor read_volume_mask(const std::string& path, const SeriesVolume& series, int64_t num_classes,
                               const std::vector<std::string>& label_names);

}  // namespace medtrain::data
