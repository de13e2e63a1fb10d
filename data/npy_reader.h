#pragma once
// Reads a NumPy .npy file (format 1.0/2.0/3.0, C order, little-endian or
// single-byte types) of integer, bool or float32/float64 values into an int64
// tensor: the form segmentation masks arrive in from Python tools. Float
// arrays must hold whole numbers (a mask saved as float is common; 0.5 is not
// a class). Every field of the header is checked against the file size before
// any allocation, so a truncated or hostile file is a DataError naming it.
#include <torch/types.h>

#include <string>

namespace medtrain::data {

// int64 tensor of the file's shape. Throws DataError("<path>: ...").
torch::Tensor read_npy_as_int64(const std::string& path);

}  // namespace medtrain::data
