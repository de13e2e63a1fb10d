#include "models/cv/onednn_ops.h"

#include <ATen/Context.h>

namespace medtrain::models {

const OneDnnOps& onednn_ops() {
  static const OneDnnOps ops = [] {
    OneDnnOps o;
    if (!at::hasMKLDNN()) return o;
    auto& d = c10::Dispatcher::singleton();
    o.conv_reorder = d.findSchema({"mkldnn::_reorder_convolution_weight", ""});
    o.conv = d.findSchema({"mkldnn::_convolution_pointwise", ""});
    o.conv_add = d.findSchema({"mkldnn::_convolution_pointwise_", "binary"});
    o.conv_transpose_reorder = d.findSchema({"mkldnn::_reorder_convolution_transpose_weight", ""});
    o.conv_transpose = d.findSchema({"mkldnn::_convolution_transpose_pointwise", ""});
    o.linear_reorder = d.findSchema({"mkldnn::_reorder_linear_weight", ""});
    o.linear = d.findSchema({"mkldnn::_linear_pointwise", ""});
    o.linear_add = d.findSchema({"mkldnn::_linear_pointwise", "binary"});
    return o;
  }();
  return ops;
}

at::Tensor call_boxed(const c10::OperatorHandle& op, torch::jit::Stack stack) {
  op.callBoxed(stack);
  return stack.at(0).toTensor();
}

}  // namespace medtrain::models
