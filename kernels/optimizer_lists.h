#pragma once
// Groups an optimizer's parameters by device for the multi-tensor ops: one
// kernel call per (param group, device). A gradient whose layout differs from
// its parameter's (rare: autograd usually matches them) is copied into the
// parameter's layout, because the kernels walk all operands as flat arrays.
#include <torch/types.h>

#include <map>
#include <string>
#include <vector>

namespace medtrain::kernels::detail {

struct DeviceLists {
  std::vector<torch::Tensor> params, grads, state0, state1;
  std::vector<int64_t> steps;
  std::vector<uint8_t> first;
};

inline torch::Tensor grad_like_param(const torch::Tensor& p, const char* op) {
  const torch::Tensor& g = p.grad();
  TORCH_CHECK(!g.is_sparse(), op, " does not support sparse gradients");
  if (g.strides() == p.strides() && g.is_non_overlapping_and_dense()) return g;
  return torch::empty_like(p).copy_(g);
}

// Optimizer state in the parameter's layout, dtype and device. State loaded
// from a checkpoint (or made by other code) may be plain contiguous for a
// channels_last parameter; it is re-laid out once and stored back by the caller.
inline torch::Tensor state_like_param(const torch::Tensor& p, const torch::Tensor& state) {
  if (state.strides() == p.strides() && state.scalar_type() == p.scalar_type() &&
      state.device() == p.device())
    return state;
  return torch::empty_like(p).copy_(state);
}

// std::map keyed by the device's string: stable order, and Device has no operator<.
using ByDevice = std::map<std::string, DeviceLists>;

}  // namespace medtrain::kernels::detail
