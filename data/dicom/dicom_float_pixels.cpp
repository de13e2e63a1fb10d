#include "data/dicom/dicom_float_pixels.h"

#include <cmath>

namespace medtrain::data {
namespace {

constexpr double kMaxMagnitude = 1e30;  // as Note [Finite modality values]

template <typename T>
int64_t convert(const T* raw, int64_t n, double slope, double intercept, float* out) {
  const bool identity = slope == 1.0 && intercept == 0.0;
  int64_t first_bad = -1;
  for (int64_t i = 0; i < n; ++i) {
    const double v = identity ? static_cast<double>(raw[i]) : static_cast<double>(raw[i]) * slope + intercept;
    // !(<=) is also true for NaN.
    if (!(std::abs(v) <= kMaxMagnitude) && first_bad < 0) first_bad = i;
    out[i] = static_cast<float>(v);
  }
  return first_bad;
}

}  // namespace

int64_t convert_float_pixels(const float* raw, int64_t n, double slope, double intercept, float* out) {
  return convert(raw, n, slope, intercept, out);
}

int64_t convert_float_pixels(const double* raw, int64_t n, double slope, double intercept, float* out) {
  return convert(raw, n, slope, intercept, out);
}

}  // namespace medtrain::data
