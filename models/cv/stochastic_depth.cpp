#include "models/cv/stochastic_depth.h"

#include <ATen/ATen.h>

#include <string>
#include <vector>

#include "models/model_error.h"

namespace medtrain::models {

at::Tensor stochastic_depth(const at::Tensor& x, double p, bool training) {
  if (p < 0.0 || p > 1.0) throw ModelError("stochastic depth probability must be in [0, 1], got " + std::to_string(p));
  if (!training || p == 0.0) return x;
  const double survival = 1.0 - p;
  std::vector<int64_t> shape(x.dim(), 1);
  shape[0] = x.size(0);
  at::Tensor noise = at::empty(shape, x.options()).bernoulli_(survival);
  if (survival > 0.0) noise.div_(survival);
  return x * noise;
}

}  // namespace medtrain::models
