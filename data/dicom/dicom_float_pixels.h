#pragma once
// Float Pixel Data (7FE0,0008, 32-bit IEEE) and Double Float Pixel Data
// (7FE0,0009, 64-bit) -> float32 values. Internal to data/dicom/dicom_decode.cpp.
//
// These hold values, not stored words: there is no BitsStored masking, sign or
// MONOCHROME1 range. PS3.3 uses them in IODs (Parametric Map) whose values are
// mapped by the Real World Value Mapping, not a Modality LUT, so conforming
// files carry no RescaleSlope/Intercept; when one does, it is applied as pydicom's
// apply_modality_lut applies it (value * slope + intercept in double). Double
// values are rounded once to float32 (about 7 significant digits).
// Note [Finite modality values] (dicom_header.cpp) promises finite values of
// magnitude <= 1e30; floats can hold NaN and infinity, so each value is checked.
#include <cstdint>

namespace medtrain::data {

// Writes n floats to out; returns the index of the first value that is NaN,
// infinite or beyond 1e30 in magnitude after the rescale, or -1 when all are fine.
int64_t convert_float_pixels(const float* raw, int64_t n, double slope, double intercept, float* out);
int64_t convert_float_pixels(const double* raw, int64_t n, double slope, double intercept, float* out);

}  // namespace medtrain::data
