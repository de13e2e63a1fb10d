#pragma once
// Helpers for the kernel tests: fresh random seeds (printed, so a failure can
// be replayed), error norms, poisoned outputs, and the no-GPU skip.
#include <gtest/gtest.h>
#include <torch/torch.h>

#include <cstdint>
#include <functional>
#include <limits>
#include <random>
#include <string>

#include "kernels/device.h"

namespace medtrain::testing {

// Seeds torch with a new value each run; the value goes into the test log.
inline uint64_t fresh_seed() {
  const uint64_t seed = (static_cast<uint64_t>(std::random_device{}()) << 32) ^ std::random_device{}();
  torch::manual_seed(seed);
  ::testing::Test::RecordProperty("seed", std::to_string(seed));
  return seed;
}

// ||a - b|| / ||b|| in float64 on the CPU (0 when both are zero).
inline double rel_err(const torch::Tensor& a, const torch::Tensor& b) {
  auto x = a.detach().to(torch::kCPU, torch::kDouble), y = b.detach().to(torch::kCPU, torch::kDouble);
  const double den = y.norm().item<double>();
  const double num = (x - y).norm().item<double>();
  return den == 0 ? num : num / den;
}

// Elementwise |a - b| <= atol + rtol * |b|, and no NaN anywhere in a.
inline ::testing::AssertionResult all_close(const torch::Tensor& a, const torch::Tensor& b,
                                            double rtol, double atol) {
  auto x = a.detach().to(torch::kCPU, torch::kDouble), y = b.detach().to(torch::kCPU, torch::kDouble);
  if (x.sizes() != y.sizes()) return ::testing::AssertionFailure() << "sizes differ";
  if (x.isnan().any().item<bool>() != y.isnan().any().item<bool>())
    return ::testing::AssertionFailure() << "NaN in one result only (unwritten output?)";
  auto bad = ((x - y).abs() > atol + rtol * y.abs()).logical_and(y.isfinite());
  const int64_t n = bad.sum().item<int64_t>();
  if (n == 0) return ::testing::AssertionSuccess();
  return ::testing::AssertionFailure() << n << " of " << x.numel() << " elements differ; max abs diff "
                                       << (x - y).abs().max().item<double>() << ", rel err "
                                       << rel_err(a, b);
}

// For ops that allocate their outputs: fills `bytes` of device memory with NaN
// and frees it, so the caching allocator hands the same (poisoned) block to the
// op's next allocations of that size; an element the kernel does not write
// then shows up as NaN.
inline void poison_cuda_cache(int64_t bytes) {
  auto junk = torch::full({bytes / 4 + 1}, std::numeric_limits<float>::quiet_NaN(),
                          torch::TensorOptions().device(torch::kCUDA));
}

inline bool has_cuda() { return kernels::cuda_device_count() > 0; }

// `f` must throw a c10::Error (TORCH_CHECK) whose message contains `needle`.
inline void expect_error(const std::function<void()>& f, const std::string& needle) {
  try {
    f();
    ADD_FAILURE() << "no error; expected one mentioning '" << needle << "'";
  } catch (const c10::Error& e) {
    EXPECT_NE(std::string(e.what()).find(needle), std::string::npos) << e.what();
  }
}

}  // namespace medtrain::testing

#define MEDTRAIN_SKIP_WITHOUT_CUDA()                                                  \
  do {                                                                                \
    if (!::medtrain::testing::has_cuda()) GTEST_SKIP() << ::medtrain::kernels::describe_devices(); \
  } while (0)
