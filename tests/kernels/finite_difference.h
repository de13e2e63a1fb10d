#pragma once
// A gradcheck for the kernel tests: compares the autograd gradients of
// sum(f(inputs) * w) (w random) with central finite differences in float64.
#include <torch/torch.h>

#include <functional>
#include <string>
#include <vector>

namespace medtrain::testing {

// inputs: float64 CPU leaf tensors with requires_grad. Returns "" when every
// analytic gradient element is within atol + rtol * |numeric| of the numeric one,
// else a description of the first mismatch.
inline std::string gradcheck(const std::function<torch::Tensor(const std::vector<torch::Tensor>&)>& f,
                             std::vector<torch::Tensor> inputs, double h = 1e-6, double atol = 1e-7,
                             double rtol = 1e-5) {
  torch::Tensor out = f(inputs);
  const torch::Tensor w = torch::randn_like(out);
  auto grads = torch::autograd::grad({(out * w).sum()}, inputs);
  torch::NoGradGuard no_grad;
  for (size_t k = 0; k < inputs.size(); ++k) {
    auto flat = inputs[k].view({-1});
    auto g = grads[k].reshape({-1});
    for (int64_t i = 0; i < flat.numel(); ++i) {
      const double orig = flat[i].item<double>();
      flat[i] = orig + h;
      const double plus = (f(inputs) * w).sum().item<double>();
      flat[i] = orig - h;
      const double minus = (f(inputs) * w).sum().item<double>();
      flat[i] = orig;
      const double numeric = (plus - minus) / (2 * h), analytic = g[i].item<double>();
      if (std::abs(numeric - analytic) > atol + rtol * std::abs(numeric)) {
        return "input " + std::to_string(k) + " element " + std::to_string(i) + ": analytic " +
               std::to_string(analytic) + " numeric " + std::to_string(numeric);
      }
    }
  }
  return "";
}

}  // namespace medtrain::testing
