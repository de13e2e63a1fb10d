#pragma once
// PALETTE COLOR (PS3.3 C.7.6.3.1.5, C.7.9): one stored index per pixel, looked
// up in three tables (red, green, blue) of the Palette Color Lookup Table
// module. Internal to data/dicom/dicom_*.cpp; DCMTK types stay out of public
// headers.
//
// Note [Palette lookup]
// As pydicom's apply_color_lut, so that both give the same values:
//  - descriptor (0028,1101..1103) = [entries (0 means 65536), first mapped
//    value, nominal bits]; an index below the first mapped value takes entry 0,
//    one past the last entry takes the last entry;
//  - the table data is 16-bit words, or 8-bit when the element holds one byte
//    per entry; the output is the table entry itself (0..255 or 0..65535):
//    no rescale, no scaling to 8 bits;
//  - segmented tables (0028,1221..1223, C.7.9.2) are expanded first: discrete,
//    linear (numpy's linspace rounded half to even) and indirect segments.
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "data/dicom/dicom_decode.h"

class DcmDataset;

namespace medtrain::data::detail {

struct PaletteLut {
  int64_t first_mapped = 0;
  std::vector<uint16_t> rgb[3];  // each holds the descriptor's number of entries
};

// Reads the three tables; throws DataError naming `path` and the missing or
// malformed attribute (tag included) when a table cannot be used.
PaletteLut read_palette_lut(DcmDataset* ds, const std::string& path);

// indices: n stored values (exact integers as floats); out: n * 3 floats, RGB.
void apply_palette(const float* indices, int64_t n, const PaletteLut& lut, float* out);

// Exposed for the unit test: the expanded table of segmented LUT data.
// Throws std::invalid_argument on a malformed segment.
std::vector<uint16_t> expand_segmented_lut(const std::vector<uint16_t>& data);

// decode_dicom's palette step. For a PALETTE COLOR file the decoder sees
// stored_info() (MONOCHROME2, no rescale: the tables index stored values) and
// writes the indices into a buffer of this object; finish() allocates the RGB
// output and looks them up. For any other file both pass `info` and `allocate`
// through and finish() does nothing. The tables are read first, so a missing
// one fails before any pixel is decoded.
class PaletteDecode {
 public:
  PaletteDecode(DcmDataset* ds, const DicomImageInfo& info, const std::string& path, const PixelAllocator& allocate);
  PaletteDecode(const PaletteDecode&) = delete;
  PaletteDecode& operator=(const PaletteDecode&) = delete;

  const DicomImageInfo& stored_info() const { return stored_; }
  const PixelAllocator& allocator() const { return indices_allocator_ ? indices_allocator_ : allocate_; }
  void finish() const;

 private:
  DicomImageInfo info_, stored_;
  const PixelAllocator& allocate_;
  std::optional<PaletteLut> lut_;
  mutable std::vector<float> indices_;
  PixelAllocator indices_allocator_;
};

}  // namespace medtrain::data::detail
