#include "models/cv/fused_conv.h"

#include <ATen/ATen.h>
#include <c10/core/InferenceMode.h>
#include <torch/nn/modules/batchnorm.h>
#include <torch/nn/modules/conv.h>

#include <optional>
#include <string>
#include <utility>

#include "models/cv/module_lookup.h"
#include "models/cv/onednn_ops.h"
#include "models/model_error.h"

namespace medtrain::models {

namespace {

c10::IValue int_list(const std::vector<int64_t>& v) { return c10::IValue(v); }

// oneDNN's name for each epilogue ("swish" is SiLU: x * sigmoid(x)).
const char* epilogue_attr(Epilogue e) {
  switch (e) {
    case Epilogue::kRelu: return "relu";
    case Epilogue::kSilu: return "swish";
    case Epilogue::kNone: break;
  }
  return "none";
}

onednn::PostOp post_op_for(Epilogue e) {
  switch (e) {
    case Epilogue::kRelu: return onednn::PostOp::kRelu;
    case Epilogue::kSilu: return onednn::PostOp::kSilu;
    case Epilogue::kNone: break;
  }
  return onednn::PostOp::kNone;
}

at::Tensor apply_epilogue(at::Tensor y, Epilogue e) {
  switch (e) {
    case Epilogue::kRelu: return y.relu_();
    case Epilogue::kSilu: return at::silu_(y);
    case Epilogue::kNone: break;
  }
  return y;
}

}  // namespace

bool onednn_convolutions_available() {
  const auto& o = onednn_ops();
  return o.conv_reorder && o.conv && o.conv_add;
}

ConvGeometry conv_geometry(const torch::nn::Conv2dImpl& conv) {
  const auto& o = conv.options;
  const auto* padding = std::get_if<torch::ExpandingArray<2>>(&o.padding());
  if (padding == nullptr) throw ModelError("fused convolution: 'same'/'valid' padding is not supported");
  auto vec = [](const torch::ExpandingArray<2>& a) { return std::vector<int64_t>(a->begin(), a->end()); };
  return {vec(o.stride()), vec(*padding), vec(o.dilation()), o.groups()};
}

FusedConv2d::FusedConv2d(FoldedConv folded, ConvGeometry geometry, const c10::Device& device)
    : geometry_(std::move(geometry)) {
  c10::InferenceMode guard;
  const bool cpu_float = device.is_cpu() && folded.weight.scalar_type() == at::kFloat;
  // Grouped (depthwise) convolutions stay with ATen: Debian's oneDNN 2.6 ran
  // EfficientNet-B0 at batch 32 22% and ConvNeXt-Tiny at batch 1 15% slower
  // than LibTorch's newer one in one A/B (infer_forward_vs_ort.sh), where
  // dense convolutions gained 10-30%.
  const bool own = cpu_float && geometry_.groups == 1 && own_convolution_primitives_enabled();
  onednn_ = own || (cpu_float && onednn_convolutions_available());
  bias_ = folded.bias.to(device);
  weight_ = folded.weight.to(device).contiguous(device.is_cpu() ? at::MemoryFormat::Contiguous
                                                                : at::MemoryFormat::ChannelsLast);
  if (own) own_.emplace(weight_, bias_, geometry_.stride, geometry_.padding, geometry_.dilation, geometry_.groups);
}

FusedConv2d::FusedConv2d(FusedConv2d&& other) noexcept
    : weight_(std::move(other.weight_)),
      bias_(std::move(other.bias_)),
      geometry_(std::move(other.geometry_)),
      onednn_(other.onednn_),
      own_(std::move(other.own_)),
      packed_(std::move(other.packed_)) {}

at::Tensor FusedConv2d::packed(at::IntArrayRef sizes) const {
  std::lock_guard<std::mutex> lock(mutex_);
  for (auto it = packed_.begin(); it != packed_.end(); ++it) {
    if (it->first == sizes) return it->second;
  }
  c10::InferenceMode guard;
  at::Tensor w = call_boxed(*onednn_ops().conv_reorder,
                            {weight_, int_list(geometry_.padding), int_list(geometry_.stride),
                             int_list(geometry_.dilation), geometry_.groups, int_list(sizes.vec())});
  if (packed_.size() == kPackedShapes) packed_.erase(packed_.begin());
  packed_.emplace_back(sizes.vec(), w);
  return w;
}

at::Tensor FusedConv2d::operator()(const at::Tensor& x, Epilogue epilogue) const {
  if (own_) return (*own_)(x, at::Tensor(), post_op_for(epilogue));
  if (!onednn_) {
    at::Tensor y = at::conv2d(x, weight_, bias_, geometry_.stride, geometry_.padding, geometry_.dilation,
                              geometry_.groups);
    return apply_epilogue(std::move(y), epilogue);
  }
  return call_boxed(*onednn_ops().conv,
              {x.contiguous(at::MemoryFormat::ChannelsLast), packed(x.sizes()), bias_, int_list(geometry_.padding),
               int_list(geometry_.stride), int_list(geometry_.dilation), geometry_.groups,
               std::string(epilogue_attr(epilogue)), c10::List<std::optional<at::Scalar>>(), c10::IValue()});
}

at::Tensor FusedConv2d::add_relu(const at::Tensor& x, at::Tensor residual) const {
  return add_into(x, std::move(residual), /*relu=*/true);
}

at::Tensor FusedConv2d::add(const at::Tensor& x, at::Tensor residual) const {
  return add_into(x, std::move(residual), /*relu=*/false);
}

at::Tensor FusedConv2d::add_into(const at::Tensor& x, at::Tensor residual, bool relu) const {
  if (!onednn_) {
    at::Tensor y = (*this)(x, Epilogue::kNone).add_(residual);
    return relu ? y.relu_() : y;
  }
  // oneDNN's "sum" post-op accumulates into the residual's own buffer, which
  // must therefore be a dense channels_last tensor nobody else reads (OwnConv
  // makes it one).
  if (own_) return (*own_)(x, std::move(residual), relu ? onednn::PostOp::kSumRelu : onednn::PostOp::kSum);
  // ATen's op: the unary after the sum is "relu" or none at all (it refuses "none").
  residual = residual.contiguous(at::MemoryFormat::ChannelsLast);
  c10::IValue unary = relu ? c10::IValue(std::string("relu")) : c10::IValue();
  return call_boxed(*onednn_ops().conv_add,
                    {residual, x.contiguous(at::MemoryFormat::ChannelsLast), packed(x.sizes()), bias_,
                     int_list(geometry_.padding), int_list(geometry_.stride), int_list(geometry_.dilation),
                     geometry_.groups, std::string("add"), at::Scalar(1.0), std::move(unary),
                     c10::List<std::optional<at::Scalar>>(), c10::IValue()});
}

FusedConv2d folded_conv(const ModuleLookup& m, const std::string& conv, const std::string& bn,
                        const c10::Device& device) {
  const auto& c = m.get<torch::nn::Conv2dImpl>(conv);
  std::optional<at::Tensor> bias;
  if (c.bias.defined()) bias = c.bias;
  const auto& norm = m.get<torch::nn::BatchNorm2dImpl>(bn);
  return FusedConv2d(fold_batch_norm(c.weight, bias, norm), conv_geometry(c), device);
}

}  // namespace medtrain::models
