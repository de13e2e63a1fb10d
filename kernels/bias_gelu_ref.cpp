// CPU reference of the fused bias + GELU: plain loops over rows and columns,
// the math of gelu_math.h in float (fp32, bf16 storage) or double.
#include <c10/util/BFloat16.h>

#include "kernels/bias_gelu_cuda.h"
#include "kernels/gelu_math.h"

namespace medtrain::kernels::ref {
namespace {

template <typename T, typename Acc>
void forward(const T* x, const T* bias, T* y, int64_t rows, int64_t d, bool tanh_approx) {
  for (int64_t r = 0; r < rows; ++r)
    for (int64_t j = 0; j < d; ++j) {
      const Acc z = static_cast<Acc>(x[r * d + j]) + static_cast<Acc>(bias[j]);
      y[r * d + j] = static_cast<T>(detail::gelu(z, tanh_approx));
    }
}

template <typename T, typename Acc>
void backward(const T* dy, const T* x, const T* bias, T* dx, int64_t rows, int64_t d, bool tanh_approx) {
  for (int64_t r = 0; r < rows; ++r)
    for (int64_t j = 0; j < d; ++j) {
      const int64_t i = r * d + j;
      const Acc z = static_cast<Acc>(x[i]) + static_cast<Acc>(bias[j]);
      dx[i] = static_cast<T>(static_cast<Acc>(dy[i]) * detail::gelu_grad(z, tanh_approx));
    }
}

}  // namespace

void bias_gelu_forward(const void* x, const void* bias, void* y, DType dt, int64_t rows, int64_t d,
                       bool tanh_approx) {
  switch (dt) {
    case DType::kF32:
      return forward<float, float>(static_cast<const float*>(x), static_cast<const float*>(bias),
                                   static_cast<float*>(y), rows, d, tanh_approx);
    case DType::kBF16:
      return forward<c10::BFloat16, float>(static_cast<const c10::BFloat16*>(x),
                                           static_cast<const c10::BFloat16*>(bias),
                                           static_cast<c10::BFloat16*>(y), rows, d, tanh_approx);
    case DType::kF64:
      return forward<double, double>(static_cast<const double*>(x), static_cast<const double*>(bias),
                                     static_cast<double*>(y), rows, d, tanh_approx);
  }
}

void bias_gelu_backward(const void* dy, const void* x, const void* bias, void* dx, DType dt, int64_t rows,
                        int64_t d, bool tanh_approx) {
  switch (dt) {
    case DType::kF32:
      return backward<float, float>(static_cast<const float*>(dy), static_cast<const float*>(x),
                                    static_cast<const float*>(bias), static_cast<float*>(dx), rows, d,
                                    tanh_approx);
    case DType::kBF16:
      return backward<c10::BFloat16, float>(
          static_cast<const c10::BFloat16*>(dy), static_cast<const c10::BFloat16*>(x),
          static_cast<const c10::BFloat16*>(bias), static_cast<c10::BFloat16*>(dx), rows, d, tanh_approx);
    case DType::kF64:
      return backward<double, double>(static_cast<const double*>(dy), static_cast<const double*>(x),
                                      static_cast<const double*>(bias), static_cast<double*>(dx), rows, d,
                                      tanh_approx);
  }
}

}  // namespace medtrain::kernels::ref
