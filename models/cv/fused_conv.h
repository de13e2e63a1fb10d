#pragma once
// A 2D convolution prepared once for inference: batch norm already folded into
// its weight and bias (fold_batch_norm.h), weights pre-packed for oneDNN, and
// its epilogue (ReLU or SiLU, residual add, or residual add + ReLU) fused into
// the convolution.
//
// On the CPU, when medtrain was built with its own oneDNN, ungrouped
// convolutions run oneDNN primitives built once per input shape (own_conv.h,
// Note [Own oneDNN primitives] in models/cv/onednn/conv_primitive.h).
// Otherwise, when LibTorch was built with oneDNN, it runs ATen's prepacked
// oneDNN convolutions with post-ops (`mkldnn::_convolution_pointwise` and its
// in-place `.binary` "add" variant, the ops torch.compile's CPU backend
// emits), on channels_last activations. Elsewhere (CUDA, or no oneDNN) it runs
// at::conv2d on the folded weights followed by the same epilogue as separate
// ops: same math, fewer fusions.
//
// Inputs: float [N, C, H, W] on the weights' device, channels_last preferred
// on the CPU (another layout is converted each call). Outputs are channels_last
// on the oneDNN path. Thread-safe for concurrent calls.
//
// Note [Packing per input shape]: oneDNN picks the weight layout for the
// input shape it convolves. Weights packed without a shape are reordered again
// on every call whose shape wants another layout (a 1x1 conv at batch 1: 0.4
// -> 4 ms). So the weights are packed once per input shape seen, and the last
// kPackedShapes packings are kept: inference runs one batch shape (and a
// smaller last batch), so each is packed once.
#include <ATen/core/Tensor.h>
#include <c10/core/Device.h>

#include <cstdint>
#include <mutex>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "models/cv/fold_batch_norm.h"
#include "models/cv/own_conv.h"

namespace torch::nn {
class Conv2dImpl;
}  // namespace torch::nn

namespace medtrain::models {

class ModuleLookup;

struct ConvGeometry {
  std::vector<int64_t> stride, padding, dilation;
  int64_t groups = 1;
};

// The geometry of a module with explicit (numeric) padding; ModelError otherwise.
ConvGeometry conv_geometry(const torch::nn::Conv2dImpl& conv);

enum class Epilogue { kNone, kRelu, kSilu };

class FusedConv2d {
 public:
  FusedConv2d(FoldedConv folded, ConvGeometry geometry, const c10::Device& device);
  FusedConv2d(FusedConv2d&& other) noexcept;

  // epilogue(conv(x) + bias)
  at::Tensor operator()(const at::Tensor& x, Epilogue epilogue) const;
  // relu(conv(x) + bias + residual); writes the result into `residual`'s
  // storage on the oneDNN path, so the caller must not need it afterwards.
  at::Tensor add_relu(const at::Tensor& x, at::Tensor residual) const;
  // conv(x) + bias + residual, with no activation after (EfficientNet's
  // MBConv); writes into `residual` like add_relu.
  at::Tensor add(const at::Tensor& x, at::Tensor residual) const;

  bool uses_onednn() const { return onednn_; }
  // Whether it runs medtrain's own oneDNN primitives (else ATen's calls).
  bool uses_own_primitives() const { return own_.has_value(); }

 private:
  static constexpr size_t kPackedShapes = 4;
  // The weights packed for input shape `sizes` (Note [Packing per input shape]).
  at::Tensor packed(at::IntArrayRef sizes) const;
  // conv(x) + bias + residual, then ReLU when `relu`, into `residual`.
  at::Tensor add_into(const at::Tensor& x, at::Tensor residual, bool relu) const;

  at::Tensor weight_;  // folded, dense
  at::Tensor bias_;
  ConvGeometry geometry_;
  bool onednn_ = false;
  std::optional<OwnConv> own_;  // CPU float dense convolutions, when enabled
  mutable std::mutex mutex_;
  mutable std::vector<std::pair<std::vector<int64_t>, at::Tensor>> packed_;  // most recent last
};

// The Conv2d at path `conv` with the BatchNorm2d at `bn`, which normalizes its
// output with nothing between them, folded in; ModelError naming a missing path.
FusedConv2d folded_conv(const ModuleLookup& m, const std::string& conv, const std::string& bn,
                        const c10::Device& device);

// Whether this LibTorch has the prepacked oneDNN convolution ops, so callers can
// say which path runs (once, when a graph is built).
bool onednn_convolutions_available();

}  // namespace medtrain::models
