#pragma once
// Writes a float32 or uint8 array as a NumPy .npy file (format version 1.0): the magic
// "\x93NUMPY", version 1.0, a little-endian uint16 header length, the header
// dict {'descr': '<f4', 'fortran_order': False, 'shape': (...), } padded with
// spaces and a newline so the data starts at a multiple of 64 bytes, then the
// values in C order. numpy.load reads it back; no NumPy needed to write it.
#include <cstdint>
#include <string>
#include <vector>

namespace medtrain::data {

// The header bytes (magic to padding newline) for a C-order array of NumPy
// type `descr` ('<f4', '|u1').
std::string npy_header(const std::string& descr, const std::vector<int64_t>& shape);
inline std::string npy_header_f32(const std::vector<int64_t>& shape) { return npy_header("<f4", shape); }

// Throws DataError naming `path` when the file can not be written.
void write_npy_f32(const std::string& path, const float* values, const std::vector<int64_t>& shape);
// uint8 (segmentation masks: one class index per pixel).
void write_npy_u8(const std::string& path, const uint8_t* values, const std::vector<int64_t>& shape);

}  // namespace medtrain::data
