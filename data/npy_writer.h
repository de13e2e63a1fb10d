#pragma once
// Writes a float32 array as a NumPy .npy file (format version 1.0): the magic
// "\x93NUMPY", version 1.0, a little-endian uint16 header length, the header
// dict {'descr': '<f4', 'fortran_order': False, 'shape': (...), } padded with
// spaces and a newline so the data starts at a multiple of 64 bytes, then the
// values in C order. numpy.load reads it back; no NumPy needed to write it.
#include <cstdint>
#include <string>
#include <vector>

namespace medtrain::data {

// The header bytes (magic to padding newline) for a float32 C-order array.
std::string npy_header_f32(const std::vector<int64_t>& shape);

// Throws DataError naming `path` when the file can not be written.
void write_npy_f32(const std::string& path, const float* values, const std::vector<int64_t>& shape);

}  // namespace medtrain::data
