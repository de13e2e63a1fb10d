#pragma once
// LibTorch's oneDNN operators that the inference graphs call (prepacked
// convolutions, transposed convolutions and linears with fused epilogues).
// libtorch_cpu registers them by name and no header in the wheel declares
// them, so they are looked up in the dispatcher once and called boxed: a few
// IValues per call, negligible next to its work. A handle is empty when this
// LibTorch lacks the op (or oneDNN); callers then keep the ATen path.
#include <ATen/core/dispatch/Dispatcher.h>
#include <ATen/core/stack.h>

#include <optional>

namespace medtrain::models {

struct OneDnnOps {
  std::optional<c10::OperatorHandle> conv_reorder, conv, conv_add;          // mkldnn::_convolution_pointwise[_.binary]
  std::optional<c10::OperatorHandle> conv_transpose_reorder, conv_transpose;  // ..._convolution_transpose_pointwise
  std::optional<c10::OperatorHandle> linear_reorder, linear, linear_add;     // mkldnn::_linear_pointwise[.binary]
};

const OneDnnOps& onednn_ops();

// Runs `op` on `stack` and returns its first output.
at::Tensor call_boxed(const c10::OperatorHandle& op, torch::jit::Stack stack);

}  // namespace medtrain::models
