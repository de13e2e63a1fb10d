#pragma once
// A CPU float convolution, 2D or 3D, run as medtrain's own oneDNN primitives
// (onednn/conv_primitive.h, Note [Own oneDNN primitives]): one primitive per
// input shape and post-op, built on first use and kept (the last kShapes).
// Used by FusedConv2d and the U-Net's PackedConv when
// own_convolution_primitives_enabled(). Thread-safe for concurrent calls.
#include <ATen/core/Tensor.h>

#include <cstdint>
#include <memory>
#include <mutex>
#include <utility>
#include <vector>

#include "models/cv/onednn/conv_primitive.h"

namespace medtrain::models {

class OwnConv {
 public:
  // weight: [out, in / groups, k...] (2 or 3 kernel dimensions), bias: [out],
  // float on the CPU; stride, padding, dilation: one entry per spatial dimension.
  OwnConv(const at::Tensor& weight, const at::Tensor& bias, std::vector<int64_t> stride, std::vector<int64_t> padding,
          std::vector<int64_t> dilation, int64_t groups);
  OwnConv(OwnConv&& other) noexcept;

  // post_op(conv(x) + bias), into a fresh channels-last tensor when `dst` is
  // undefined; for kSum/kSumRelu `dst` holds the residual and receives the
  // result (made dense channels-last first). ModelError on a shape mismatch.
  at::Tensor operator()(const at::Tensor& x, at::Tensor dst, onednn::PostOp post_op) const;

 private:
  static constexpr size_t kShapes = 8;
  std::shared_ptr<const onednn::ConvPrimitive> primitive(at::IntArrayRef sizes, onednn::PostOp post_op) const;

  at::Tensor weight_, bias_;  // dense
  std::vector<int64_t> stride_, padding_, dilation_;
  int64_t groups_ = 1;
  mutable std::mutex mutex_;
  // Keyed by the input's sizes followed by the post-op; most recent last.
  mutable std::vector<std::pair<std::vector<int64_t>, std::shared_ptr<const onednn::ConvPrimitive>>> primitives_;
};

// Whether CPU convolutions run medtrain's own oneDNN primitives: built with
// libdnnl and not turned off with MEDTRAIN_OWN_ONEDNN=0.
bool own_convolution_primitives_enabled();

}  // namespace medtrain::models
