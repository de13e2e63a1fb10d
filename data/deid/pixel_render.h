#pragma once
// The stored pixels of a DICOM object in memory, made native (uncompressed,
// host byte order) so that they can be both shown to OCR and overwritten, and
// rendered per frame as a display would show them: greyscale through the
// file's window (first WindowCenter/Width; min-max of the frame when absent),
// MONOCHROME1 as displayed (low = white), colour as RGB luma (YBR converted).
// The stored-value and modality-LUT steps are the decoder's (Note [Pixel
// pipeline] in data/dicom/dicom_pixels.h). Thread-safe for distinct datasets.
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "data/deid/pixel_ocr.h"
#include "data/dicom/dicom_decode.h"
#include "data/dicom/dicom_pixels.h"

class DcmDataset;

namespace medtrain::data::deid {

struct NativeImage {
  DicomImageInfo info;   // header as read (transfer syntax: as stored)
  PixelLayout layout;    // of the native bytes (after a codec's colour conversion)
  uint8_t* data = nullptr;  // all frames, owned by the dataset's Pixel Data element
  int64_t frame_bytes = 0;
  bool converted = false;  // the stored encoding was compressed (or not explicit little endian)
};

// Decompresses Pixel Data in place (DCMTK codecs: RLE, JPEG, JPEG-LS; the
// compressed copy is kept until finish_native_pixels) and describes it. Throws
// DataError (no value in the message) for: no Pixel Data, an unsupported layout
// or transfer syntax (JPEG 2000 included: no encoder/decoder pair to redact
// through), a codec failure, pixel data shorter than the header says.
NativeImage open_native_pixels(DcmDataset& ds);

// The views of one frame OCR reads: the display rendering, plus for
// greyscale images with a window the full stored range (text burned in with a
// value the window hides).
std::vector<GreyImage> render_frame_views(const NativeImage& image, int64_t frame);

// A hash of the frame's top and bottom text bands (the outer kBandShare of the
// rows each): frames with equal hashes show the same overlay text there.
uint64_t text_band_hash(const NativeImage& image, int64_t frame);
inline constexpr double kBandShare = 0.2;

}  // namespace medtrain::data::deid
