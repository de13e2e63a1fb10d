#pragma once
// GELU and its derivative, exact (erf) and tanh approximation, for the CUDA
// kernel and the CPU reference alike (T = float on the GPU, float or double on the CPU).
#include <cmath>

#include "kernels/host_device.h"

namespace medtrain::kernels::detail {

template <typename T>
MEDTRAIN_HD T gelu(T z, bool tanh_approx) {
  using std::erf;
  using std::tanh;
  if (tanh_approx) {
    const T k = T(0.7978845608028654), c = T(0.044715);
    return T(0.5) * z * (T(1) + tanh(k * (z + c * z * z * z)));
  }
  return T(0.5) * z * (T(1) + erf(z * T(0.7071067811865476)));
}

template <typename T>
MEDTRAIN_HD T gelu_grad(T z, bool tanh_approx) {
  using std::erf;
  using std::exp;
  using std::tanh;
  if (tanh_approx) {
    const T k = T(0.7978845608028654), c = T(0.044715);
    const T t = tanh(k * (z + c * z * z * z));
    return T(0.5) * (T(1) + t) + T(0.5) * z * (T(1) - t * t) * k * (T(1) + T(3) * c * z * z);
  }
  const T cdf = T(0.5) * (T(1) + erf(z * T(0.7071067811865476)));
  const T pdf = exp(T(-0.5) * z * z) * T(0.3989422804014327);
  return cdf + z * pdf;
}

}  // namespace medtrain::kernels::detail
