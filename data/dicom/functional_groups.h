#pragma once
// Multi-frame functional groups (PS3.3 C.7.6.16): the attributes that apply to
// one frame of an enhanced CT/MR, a Segmentation or another multi-frame IOD.
// A functional group macro (PlanePositionSequence, PixelMeasuresSequence, ...)
// is looked up in the frame's item of the Per-Frame Functional Groups Sequence
// first, then in the Shared Functional Groups Sequence, as the standard says
// (a macro sits in one of the two, never in both).
// Internal to data/dicom/*.cpp; DCMTK types stay out of public headers.
#include <array>
#include <cstddef>
#include <optional>
#include <string>

class DcmItem;
class DcmTagKey;

namespace medtrain::data::detail {

// The first item of functional group `group` for frame `frame` (0-based):
// per-frame, else shared; nullptr when neither holds it.
DcmItem* frame_group(DcmItem* dataset, size_t frame, const DcmTagKey& group);

// Number of items of the Per-Frame Functional Groups Sequence (0 when absent).
size_t per_frame_items(DcmItem* dataset);

// All N values of a decimal/float attribute, or nullopt when absent or
// shorter than N; a value that is not a finite number throws DataError naming
// `path` and `name`.
template <size_t N>
std::optional<std::array<double, N>> get_doubles(DcmItem* item, const DcmTagKey& key, const std::string& path,
                                                 const char* name);

// The attribute as a string ("" when absent or item is null).
std::string get_string(DcmItem* item, const DcmTagKey& key);

// Per-frame geometry and value transform of an enhanced image; each field
// nullopt when neither the frame's group nor the shared one has it.
struct FrameAttributes {
  std::optional<std::array<double, 3>> position;     // PlanePositionSequence > ImagePositionPatient
  std::optional<std::array<double, 6>> orientation;  // PlaneOrientationSequence > ImageOrientationPatient
  std::optional<std::array<double, 2>> pixel_spacing;  // PixelMeasuresSequence > PixelSpacing
  std::optional<double> slope, intercept;            // PixelValueTransformationSequence
};
FrameAttributes frame_attributes(DcmItem* dataset, size_t frame, const std::string& path);

}  // namespace medtrain::data::detail
