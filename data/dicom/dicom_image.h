#pragma once
// Decodes one DICOM file into modality values (Hounsfield units for CT) as a
// tensor. The decoding itself (transfer syntaxes, colour, MONOCHROME1, the
// stored-value and modality-LUT pipeline) is decode_dicom in
// data/dicom/dicom_decode.h; Note [Pixel pipeline] in data/dicom/dicom_pixels.h says what
// happens to each value, docs/dicom.md lists what is supported.
// Thread-safe: concurrent calls on different files share nothing but DCMTK's
// codec registry, which DCMTK guards itself.
#include <torch/types.h>

#include <string>

#include "data/dicom/dicom_decode.h"

namespace medtrain::data {

struct DicomImage {
  // float32, CPU: [frames, rows, cols] for grey images, [frames, rows, cols, 3]
  // (RGB, samples last) for colour ones; modality values.
  torch::Tensor pixels;
  DicomImageInfo info;
};

// Throws DataError naming `path` and the problem (see decode_dicom).
DicomImage read_dicom_image(const std::string& path);

// [H, W] grey image of one frame: the frame itself, or for colour the BT.601
// luma 0.299 R + 0.587 G + 0.114 B (what a grey training pipeline expects).
torch::Tensor grey_frame(const DicomImage& image, int64_t frame = 0);

}  // namespace medtrain::data
