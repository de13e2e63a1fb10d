#pragma once
// A Linear layer prepared once for inference on [M, K] rows: weights
// pre-packed for oneDNN per row count (as FusedConv2d packs per input shape,
// fused_conv.h Note [Packing per input shape]) and an exact-GELU epilogue or a
// residual add fused into the matrix product (`mkldnn::_linear_pointwise` and
// its `.binary` "add" variant). Elsewhere (CUDA, no oneDNN) at::linear
// followed by the same epilogue. Thread-safe for concurrent calls.
#include <ATen/core/Tensor.h>
#include <c10/core/Device.h>

#include <cstdint>
#include <mutex>
#include <utility>
#include <vector>

namespace medtrain::models {

class FusedLinear {
 public:
  // weight [out, in], bias [out] (float, any device); copied to `device`.
  FusedLinear(const at::Tensor& weight, const at::Tensor& bias, const c10::Device& device);
  FusedLinear(FusedLinear&& other) noexcept;

  // x [M, in] contiguous -> [M, out]; gelu(x W^T + b) when `gelu`.
  at::Tensor operator()(const at::Tensor& x, bool gelu) const;
  // x W^T + b + other, other [M, out] contiguous.
  at::Tensor add(const at::Tensor& x, const at::Tensor& other) const;

 private:
  static constexpr size_t kPackedShapes = 4;
  at::Tensor packed(int64_t rows) const;

  at::Tensor weight_, bias_;
  bool onednn_ = false;
  mutable std::mutex mutex_;
  mutable std::vector<std::pair<int64_t, at::Tensor>> packed_;  // most recent last
};

}  // namespace medtrain::models
