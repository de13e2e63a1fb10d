// CPU reference of the fused softmax cross-entropy: per row, max, log-sum-exp
// and the gradient, in double accumulators over float values.
#include <c10/util/BFloat16.h>

#include <algorithm>
#include <cmath>
#include <limits>

#include "kernels/softmax_cross_entropy_cuda.h"

namespace medtrain::kernels::ref {
namespace {

template <typename T>
void rows(const CrossEntropyRows& a) {
  const T* logits = static_cast<const T*>(a.logits);
  T* grad = static_cast<T*>(a.grad);
  const double eps = a.smoothing;
  for (int64_t r = 0; r < a.n; ++r) {
    const T* x = logits + r * a.v;
    T* g = grad ? grad + r * a.v : nullptr;
    const int64_t t = a.target[r];
    if (t == a.ignore_index) {
      a.row_loss[r] = 0.f;
      if (g) std::fill(g, g + a.v, T(0.f));
      continue;
    }
    double m = -std::numeric_limits<double>::infinity(), total = 0;
    for (int64_t j = 0; j < a.v; ++j) m = std::max(m, static_cast<double>(static_cast<float>(x[j])));
    double s = 0;
    for (int64_t j = 0; j < a.v; ++j) {
      const double xj = static_cast<float>(x[j]);
      s += std::exp(xj - m);
      total += xj;
    }
    const double lse = m + std::log(s);
    const bool bad = t < 0 || t >= a.v;
    const double nll = bad ? std::numeric_limits<double>::quiet_NaN() : lse - static_cast<float>(x[t]);
    a.row_loss[r] = static_cast<float>((1 - eps) * nll + eps * (lse - total / a.v));
    if (!g) continue;
    const double scale = *a.inv_count, off = eps / a.v;
    for (int64_t j = 0; j < a.v; ++j) {
      const double p = std::exp(static_cast<float>(x[j]) - lse);
      g[j] = T(static_cast<float>((p - (j == t ? 1 - eps : 0.0) - off) * scale));
    }
  }
}

}  // namespace

void softmax_cross_entropy_rows(const CrossEntropyRows& a) {
  if (a.logits_bf16) {
    rows<c10::BFloat16>(a);
  } else {
    rows<float>(a);
  }
}

}  // namespace medtrain::kernels::ref
