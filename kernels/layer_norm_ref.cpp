// CPU reference of the fused LayerNorm: per-row two-pass statistics and the
// closed-form backward, in float (fp32, bf16 storage) or double.
#include <c10/util/BFloat16.h>

#include <cmath>
#include <vector>

#include "kernels/layer_norm_cuda.h"

namespace medtrain::kernels::ref {
namespace {

template <typename T, typename Acc>
void forward(const T* x, const T* gamma, const T* beta, T* y, Acc* mean, Acc* rstd, int64_t rows, int64_t d,
             Acc eps) {
  for (int64_t r = 0; r < rows; ++r) {
    const T* xr = x + r * d;
    Acc s = 0, q = 0;
    for (int64_t j = 0; j < d; ++j) s += static_cast<Acc>(xr[j]);
    const Acc mu = s / static_cast<Acc>(d);
    for (int64_t j = 0; j < d; ++j) q += (static_cast<Acc>(xr[j]) - mu) * (static_cast<Acc>(xr[j]) - mu);
    const Acc rs = Acc(1) / std::sqrt(q / static_cast<Acc>(d) + eps);
    for (int64_t j = 0; j < d; ++j)
      y[r * d + j] = static_cast<T>((static_cast<Acc>(xr[j]) - mu) * rs * static_cast<Acc>(gamma[j]) +
                                    static_cast<Acc>(beta[j]));
    mean[r] = mu;
    rstd[r] = rs;
  }
}

template <typename T, typename Acc>
void backward(const T* dy, const T* x, const Acc* mean, const Acc* rstd, const T* gamma, T* dx, Acc* dgamma,
              Acc* dbeta, int64_t rows, int64_t d) {
  for (int64_t j = 0; j < d; ++j) dgamma[j] = dbeta[j] = 0;
  for (int64_t r = 0; r < rows; ++r) {
    Acc a = 0, b = 0;
    for (int64_t j = 0; j < d; ++j) {
      const Acc xhat = (static_cast<Acc>(x[r * d + j]) - mean[r]) * rstd[r];
      const Acc v = static_cast<Acc>(dy[r * d + j]);
      a += v * static_cast<Acc>(gamma[j]);
      b += v * static_cast<Acc>(gamma[j]) * xhat;
      dgamma[j] += v * xhat;
      dbeta[j] += v;
    }
    a /= static_cast<Acc>(d);
    b /= static_cast<Acc>(d);
    for (int64_t j = 0; j < d; ++j) {
      const Acc xhat = (static_cast<Acc>(x[r * d + j]) - mean[r]) * rstd[r];
      const Acc gdy = static_cast<Acc>(dy[r * d + j]) * static_cast<Acc>(gamma[j]);
      dx[r * d + j] = static_cast<T>(rstd[r] * (gdy - a - xhat * b));
    }
  }
}

}  // namespace

void layer_norm_forward(const void* x, const void* gamma, const void* beta, void* y, void* mean, void* rstd,
                        const LayerNormArgs& a) {
  switch (a.dt) {
    case DType::kF32:
      return forward<float, float>(static_cast<const float*>(x), static_cast<const float*>(gamma),
                                   static_cast<const float*>(beta), static_cast<float*>(y),
                                   static_cast<float*>(mean), static_cast<float*>(rstd), a.rows, a.d, a.eps);
    case DType::kBF16: {
      using B = c10::BFloat16;
      return forward<B, float>(static_cast<const B*>(x), static_cast<const B*>(gamma), static_cast<const B*>(beta),
                               static_cast<B*>(y), static_cast<float*>(mean), static_cast<float*>(rstd), a.rows,
                               a.d, a.eps);
    }
    case DType::kF64:
      return forward<double, double>(static_cast<const double*>(x), static_cast<const double*>(gamma),
                                     static_cast<const double*>(beta), static_cast<double*>(y),
                                     static_cast<double*>(mean), static_cast<double*>(rstd), a.rows, a.d,
                                     static_cast<double>(a.eps));
  }
}

void layer_norm_backward(const void* dy, const void* x, const void* mean, const void* rstd, const void* gamma,
                         void* dx, void* dgamma, void* dbeta, const LayerNormArgs& a) {
  switch (a.dt) {
    case DType::kF32:
      return backward<float, float>(static_cast<const float*>(dy), static_cast<const float*>(x),
                                    static_cast<const float*>(mean), static_cast<const float*>(rstd),
                                    static_cast<const float*>(gamma), static_cast<float*>(dx),
                                    static_cast<float*>(dgamma), static_cast<float*>(dbeta), a.rows, a.d);
    case DType::kBF16: {
      using B = c10::BFloat16;
      return backward<B, float>(static_cast<const B*>(dy), static_cast<const B*>(x),
                                static_cast<const float*>(mean), static_cast<const float*>(rstd),
                                static_cast<const B*>(gamma), static_cast<B*>(dx), static_cast<float*>(dgamma),
                                static_cast<float*>(dbeta), a.rows, a.d);
    }
    case DType::kF64:
      return backward<double, double>(static_cast<const double*>(dy), static_cast<const double*>(x),
                                      static_cast<const double*>(mean), static_cast<const double*>(rstd),
                                      static_cast<const double*>(gamma), static_cast<double*>(dx),
                                      static_cast<double*>(dgamma), static_cast<double*>(dbeta), a.rows, a.d);
  }
}

}  // namespace medtrain::kernels::ref
