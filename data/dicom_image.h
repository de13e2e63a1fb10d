#pragma once
// Decodes one DICOM file into modality values (Hounsfield units for CT).
//
// Pipeline per pixel: stored value (8 or 16 bits allocated) -> shifted down by
// HighBit+1-BitsStored and masked to BitsStored -> sign-extended when
// PixelRepresentation is 1 -> value * RescaleSlope + RescaleIntercept.
// MONOCHROME1 (bright = low value) is reflected inside the modality range of the
// stored bits, lo + hi - v, so that bright always means high, as in MONOCHROME2.
//
// Compressed transfer syntaxes (JPEG, JPEG-LS, RLE) are decompressed by DCMTK;
// JPEG 2000 and others without a codec are reported, not guessed at.
// Thread-safe: concurrent calls on different files share nothing but DCMTK's
// codec registry, which DCMTK guards itself.
#include <torch/types.h>

#include <optional>
#include <string>

namespace medtrain::data {

struct DicomImageInfo {
  int64_t rows = 0;
  int64_t cols = 0;
  int64_t frames = 1;
  int bits_allocated = 0;
  int bits_stored = 0;
  int high_bit = 0;
  int pixel_representation = 0;  // 0 unsigned, 1 two's complement
  std::string photometric;       // MONOCHROME1 or MONOCHROME2
  bool inverted = false;         // true for MONOCHROME1: values were reflected
  double slope = 1.0;
  double intercept = 0.0;
  // First value of WindowCenter/Width when present, in the returned tensor's
  // value space (reflected like the pixels for MONOCHROME1).
  std::optional<double> window_center;
  std::optional<double> window_width;
  std::string transfer_syntax_uid;  // of the file as stored (before decoding)
};

struct DicomImage {
  torch::Tensor pixels;  // float32 [frames, rows, cols], CPU, modality values
  DicomImageInfo info;
};

// Throws DataError naming `path` and the problem: not a DICOM file, truncated or
// corrupt, no Pixel Data, unsupported transfer syntax (named), unsupported
// photometric interpretation / bits allocated / samples per pixel, pixel data
// shorter than rows*cols*frames.
DicomImage read_dicom_image(const std::string& path);

}  // namespace medtrain::data
