#pragma once
// JPEG 2000 codestreams (transfer syntaxes 1.2.840.10008.1.2.4.90 / .91, the
// fragments of one frame) decoded with OpenJPEG from memory. Open-source DCMTK
// has no JPEG 2000 codec, so data/dicom/dicom_decode.cpp hands these frames here.
// Thread-safe: each call creates its own OpenJPEG codec and stream.
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace medtrain::data {

struct J2kFrame {
  int64_t rows = 0, cols = 0;
  int components = 0;
  std::vector<int32_t> planes;  // components planes of rows*cols values (signed when the codestream is)
};

// Decodes one frame (a raw J2K codestream or a JP2 file). Throws DataError
// "<where>: JPEG 2000 ..." with OpenJPEG's message when decoding fails, and when
// the codestream's size, component count or subsampling differ from what the
// DICOM header says (expected_rows x expected_cols, expected_components).
J2kFrame decode_j2k_frame(const uint8_t* data, size_t size, int64_t expected_rows, int64_t expected_cols,
                          int expected_components, const std::string& where);

}  // namespace medtrain::data
