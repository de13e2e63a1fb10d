#pragma once
// The DICOM decoder without LibTorch: reads one file, decodes its Pixel Data
// (any transfer syntax in docs/dicom.md) and writes float32 modality values into
// a buffer the caller allocates once the shape is known. read_dicom_image
// (dicom_image.h) wraps it into a tensor; the fuzzer and tools use it directly.
//
// Output layout, row-major: [frames, rows, cols] for one sample per pixel,
// [frames, rows, cols, 3] (RGB, samples last, as numpy/pydicom) for colour,
// whatever the file's PlanarConfiguration or colour space (YBR_* -> RGB).
// Value pipeline: see Note [Pixel pipeline] in data/dicom/dicom_pixels.h.
//
// Thread-safe: concurrent calls share only DCMTK's codec registry, which DCMTK
// guards itself, and OpenJPEG codecs are created per call.
#include <array>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

namespace medtrain::data {

struct DicomImageInfo {
  int64_t rows = 0;
  int64_t cols = 0;
  int64_t frames = 1;
  int samples_per_pixel = 1;
  int planar_configuration = 0;  // as stored (0 = RGBRGB..., 1 = RR..GG..BB..)
  int bits_allocated = 0;
  int bits_stored = 0;
  int high_bit = 0;
  int pixel_representation = 0;  // 0 unsigned, 1 two's complement
  bool float_pixels = false;     // Float (7FE0,0008) or Double Float (7FE0,0009) Pixel Data: IEEE values
  std::string photometric;       // as stored: MONOCHROME1/2, RGB, YBR_FULL, YBR_FULL_422, ...
  bool inverted = false;         // true for MONOCHROME1: values were reflected
  double slope = 1.0;
  double intercept = 0.0;
  // First value of WindowCenter/Width when present, in the returned values'
  // space (reflected like the pixels for MONOCHROME1).
  std::optional<double> window_center;
  std::optional<double> window_width;
  std::string transfer_syntax_uid;   // of the file as stored (before decoding)
  std::string transfer_syntax_name;  // DCMTK's name for it, e.g. "JPEG-LS Lossless"
  std::string modality;              // (0008,0060), empty when absent
  std::optional<std::array<double, 2>> pixel_spacing;      // mm: between rows, between columns
  std::optional<std::array<double, 3>> image_position;     // (0020,0032) mm, patient frame
  std::optional<std::array<double, 6>> image_orientation;  // (0020,0037) row dir, column dir
  std::string series_instance_uid;

  // The shape of the decoded values: {frames, rows, cols} or {frames, rows, cols, 3}.
  std::vector<int64_t> shape() const;
};

// Called once with the output shape; returns a buffer of prod(shape) floats that
// stays valid until decode_dicom returns.
using PixelAllocator = std::function<float*(const std::vector<int64_t>& shape)>;

// Throws DataError naming `path` and the problem: cannot open, not a DICOM file,
// truncated or corrupt, no Pixel Data, unsupported transfer syntax (named),
// unsupported photometric interpretation / bits allocated / samples per pixel,
// pixel data shorter than rows*cols*frames, a codec's decoding failure.
DicomImageInfo decode_dicom(const std::string& path, const PixelAllocator& allocate);

// Only the header (no pixel decoding); same errors except the pixel ones.
DicomImageInfo read_dicom_info(const std::string& path);

}  // namespace medtrain::data
