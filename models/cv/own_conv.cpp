#include "models/cv/own_conv.h"

#include <ATen/ATen.h>

#include <cstdlib>
#include <string>

#include "models/model_error.h"

namespace medtrain::models {

bool own_convolution_primitives_enabled() {
  static const bool enabled = [] {
    // MEDTRAIN_OWN_ONEDNN=0: ATen's oneDNN calls instead, e.g. to compare the
    // two in benchmarks.
    const char* v = std::getenv("MEDTRAIN_OWN_ONEDNN");
    return onednn::available() && !(v != nullptr && std::string(v) == "0");
  }();
  return enabled;
}

OwnConv::OwnConv(const at::Tensor& weight, const at::Tensor& bias, std::vector<int64_t> stride,
                 std::vector<int64_t> padding, std::vector<int64_t> dilation, int64_t groups)
    : weight_(weight.detach().contiguous()),
      bias_(bias.detach().contiguous()),
      stride_(std::move(stride)),
      padding_(std::move(padding)),
      dilation_(std::move(dilation)),
      groups_(groups) {}

OwnConv::OwnConv(OwnConv&& other) noexcept
    : weight_(std::move(other.weight_)),
      bias_(std::move(other.bias_)),
      stride_(std::move(other.stride_)),
      padding_(std::move(other.padding_)),
      dilation_(std::move(other.dilation_)),
      groups_(other.groups_),
      primitives_(std::move(other.primitives_)) {}

std::shared_ptr<const onednn::ConvPrimitive> OwnConv::primitive(at::IntArrayRef sizes, onednn::PostOp post_op) const {
  std::vector<int64_t> key = sizes.vec();
  key.push_back(static_cast<int64_t>(post_op));
  std::lock_guard<std::mutex> lock(mutex_);
  for (const auto& [k, p] : primitives_) {
    if (k == key) return p;
  }
  if (sizes[1] != weight_.size(1) * groups_) {
    throw ModelError("convolution: input has " + std::to_string(sizes[1]) + " channels, the weights expect " +
                     std::to_string(weight_.size(1) * groups_));
  }
  onednn::ConvShape s;
  s.batch = sizes[0];
  s.in_channels = sizes[1];
  s.out_channels = weight_.size(0);
  s.groups = groups_;
  s.in_size.assign(sizes.begin() + 2, sizes.end());
  s.kernel.assign(weight_.sizes().begin() + 2, weight_.sizes().end());
  s.stride = stride_, s.padding = padding_, s.dilation = dilation_;
  auto p = std::make_shared<const onednn::ConvPrimitive>(s, weight_.data_ptr<float>(), bias_.data_ptr<float>(), post_op);
  if (primitives_.size() == kShapes) primitives_.erase(primitives_.begin());
  primitives_.emplace_back(std::move(key), p);
  return p;
}

at::Tensor OwnConv::operator()(const at::Tensor& x, at::Tensor dst, onednn::PostOp post_op) const {
  if (x.dim() != weight_.dim()) {
    throw ModelError("convolution: expected a " + std::to_string(weight_.dim()) + "-D input, got " +
                     std::to_string(x.dim()) + "-D");
  }
  const auto format = x.dim() == 5 ? at::MemoryFormat::ChannelsLast3d : at::MemoryFormat::ChannelsLast;
  const at::Tensor src = x.contiguous(format);
  const auto p = primitive(src.sizes(), post_op);
  std::vector<int64_t> out_sizes{src.size(0), weight_.size(0)};
  out_sizes.insert(out_sizes.end(), p->out_size().begin(), p->out_size().end());
  if (!dst.defined()) {
    dst = at::empty(out_sizes, src.options().memory_format(format));
  } else if (dst.sizes() != at::IntArrayRef(out_sizes) || dst.scalar_type() != at::kFloat) {
    throw ModelError("convolution: the residual's shape does not match the convolution's output");
  } else {
    dst = dst.contiguous(format);
  }
  at::Tensor scratch;
  if (p->scratchpad_bytes() > 0) {
    scratch = at::empty({static_cast<int64_t>(p->scratchpad_bytes())}, src.options().dtype(at::kByte));
  }
  p->run(src.data_ptr<float>(), dst.data_ptr<float>(), scratch.defined() ? scratch.data_ptr() : nullptr);
  return dst;
}

}  // namespace medtrain::models
