// The aten ops of convolutional networks beyond the classifiers: convolution
// in 1, 2 or 3 spatial dimensions (plain, transposed, grouped and depthwise),
// instance norm, leaky relu, SiLU and padding. Together they export the U-Nets
// (models/cv/unet.h: MONAI BasicUNet) and, with the classifier ops and the
// permute / layer_norm / linear / gelu / mul of aten_ops_text.cpp, EfficientNet
// (SiLU, squeeze-excitation: sigmoid * x) and ConvNeXt. Eval-mode semantics,
// as in aten_to_onnx.cpp.
#include <string>
#include <vector>

#include "trainer/export/aten_converter.h"

namespace medtrain::exporter::detail {
namespace {

// A per-dimension argument given once (stride=[2]) stands for every spatial
// dimension, as PyTorch's ExpandingArray does; ONNX wants one per dimension.
std::vector<int64_t> per_dim(const Converter& c, const Node* n, std::vector<int64_t> v, size_t spatial,
                             const char* what) {
  if (v.size() == 1 && spatial > 1) v.assign(spatial, v[0]);
  if (v.size() != spatial) {
    c.fail(n, std::string(what) + " has " + std::to_string(v.size()) + " values for " + std::to_string(spatial) +
                  " spatial dimensions");
  }
  return v;
}

struct ConvArgs {
  size_t stride, padding, dilation, groups;
  int transposed;  // index of the transposed flag, or -1: fixed by the op
  bool is_transposed;
  int output_padding;  // index, or -1: none
};

// Conv / ConvTranspose. PyTorch and ONNX store both weights alike:
// Conv [out, in/groups, *k], ConvTranspose [in, out/groups, *k].
void convolution(Converter& c, const Node* n, const ConvArgs& a) {
  if (n->inputs()[a.padding]->type()->kind() == c10::TypeKind::StringType) c.fail(n, "string padding ('same'/'valid')");
  const bool transposed = a.transposed >= 0 ? c.boolean(n, static_cast<size_t>(a.transposed)) : a.is_transposed;
  const at::Tensor w = c.constant(n, n->inputs()[1]).toTensor();
  const std::vector<int64_t> kernel(w.sizes().begin() + 2, w.sizes().end());
  const size_t spatial = kernel.size();
  std::vector<std::string> inputs = {c.tensor(n, n->inputs()[0]), c.tensor(n, n->inputs()[1])};
  if (!c.is_none(n->inputs()[2])) inputs.push_back(c.tensor(n, n->inputs()[2]));
  std::vector<OnnxAttribute> attributes = {
      OnnxAttribute::integers("kernel_shape", kernel),
      OnnxAttribute::integers("strides", per_dim(c, n, c.ints(n, a.stride), spatial, "stride")),
      OnnxAttribute::integers("pads", symmetric_pads(per_dim(c, n, c.ints(n, a.padding), spatial, "padding"))),
      OnnxAttribute::integers("dilations", per_dim(c, n, c.ints(n, a.dilation), spatial, "dilation")),
      OnnxAttribute::integer("group", c.integer(n, a.groups))};
  if (transposed) {
    std::vector<int64_t> output_padding(spatial, 0);
    if (a.output_padding >= 0) {
      output_padding = per_dim(c, n, c.ints(n, static_cast<size_t>(a.output_padding)), spatial, "output_padding");
    }
    attributes.push_back(OnnxAttribute::integers("output_padding", output_padding));
  }
  c.emit(transposed ? "ConvTranspose" : "Conv", inputs, {c.output(n->outputs()[0])}, attributes);
}

// instance_norm(x, weight, bias, running_mean, running_var, use_input_stats, momentum, eps, cudnn_enabled).
// use_input_stats is true unless the norm tracks running statistics (then, in
// eval mode, it is a batch norm with those statistics).
void instance_norm(Converter& c, const Node* n) {
  const Value* x = n->inputs()[0];
  const float eps = static_cast<float>(c.real(n, 7));
  int64_t channels = 0;
  if (!c.is_none(n->inputs()[1])) {
    channels = c.constant(n, n->inputs()[1]).toTensor().numel();
  } else if (auto type = x->type()->cast<c10::TensorType>(); type && type->sizes().concrete_sizes()) {
    channels = (*type->sizes().concrete_sizes()).at(1);
  } else {
    c.fail(n, "instance norm without affine parameters on an input whose channel count is unknown");
  }
  auto param = [&](size_t i, float fill, const char* what) {
    if (!c.is_none(n->inputs()[i])) return c.tensor(n, n->inputs()[i]);
    const std::string name = c.output(n->outputs()[0]) + "_" + what;
    c.add_initializer(name, at::full({channels}, fill, at::kFloat));
    return name;
  };
  const std::string scale = param(1, 1.0f, "scale"), bias = param(2, 0.0f, "bias");
  if (c.boolean(n, 5)) {
    c.emit("InstanceNormalization", {c.tensor(n, x), scale, bias}, {c.output(n->outputs()[0])},
           {OnnxAttribute::real("epsilon", eps)});
    return;
  }
  if (c.is_none(n->inputs()[3]) || c.is_none(n->inputs()[4])) {
    c.fail(n, "instance norm without input statistics and without running statistics");
  }
  c.emit("BatchNormalization",
         {c.tensor(n, x), scale, bias, c.tensor(n, n->inputs()[3]), c.tensor(n, n->inputs()[4])},
         {c.output(n->outputs()[0])}, {OnnxAttribute::real("epsilon", eps)});
}

// leaky_relu(x, negative_slope)
void leaky_relu(Converter& c, const Node* n) {
  c.emit("LeakyRelu", {c.tensor(n, n->inputs()[0])}, {c.output(n->outputs()[0])},
         {OnnxAttribute::real("alpha", static_cast<float>(c.real(n, 1)))});
}

// silu(x) = x * sigmoid(x): opset 17 has no SiLU node.
void silu(Converter& c, const Node* n) {
  const std::string x = c.tensor(n, n->inputs()[0]);
  const std::string out = c.output(n->outputs()[0]);
  c.emit("Sigmoid", {x}, {out + "_sigmoid"});
  c.emit("Mul", {x, out + "_sigmoid"}, {out});
}

// PyTorch lists pads (before, after) from the last dimension backwards, for
// the last pad.size()/2 dimensions; ONNX Pad takes [begin per axis..., end per axis...].
void pad(Converter& c, const Node* n, const std::string& mode, double value) {
  const Value* x = n->inputs()[0];
  const int64_t rank = c.rank(n, x);
  const std::vector<int64_t> torch_pads = c.ints(n, 1);
  if (torch_pads.size() % 2 != 0 || static_cast<int64_t>(torch_pads.size()) > 2 * rank) {
    c.fail(n, "pad list of " + std::to_string(torch_pads.size()) + " values for a " + std::to_string(rank) +
                  "-D input");
  }
  std::vector<int64_t> pads(2 * rank, 0);
  for (size_t i = 0; i < torch_pads.size() / 2; ++i) {
    const int64_t axis = rank - 1 - static_cast<int64_t>(i);
    pads[axis] = torch_pads[2 * i];
    pads[rank + axis] = torch_pads[2 * i + 1];
  }
  std::vector<std::string> inputs = {c.tensor(n, x), c.int64_initializer(c.output(n->outputs()[0]) + "_pads", pads)};
  if (mode == "constant" && value != 0.0) {
    const std::string name = c.output(n->outputs()[0]) + "_value";
    c.add_initializer(name, at::full({}, value, at::kFloat));
    inputs.push_back(name);
  }
  c.emit("Pad", inputs, {c.output(n->outputs()[0])}, {OnnxAttribute::text("mode", mode)});
}

// aten::pad(x, pad, mode, value): mode "constant" | "reflect" | "replicate" | "circular".
void pad_with_mode(Converter& c, const Node* n) {
  const std::string mode = c.constant(n, n->inputs()[2]).toStringRef();
  const double value = c.is_none(n->inputs()[3]) ? 0.0 : c.real(n, 3);
  if (mode == "constant") return pad(c, n, "constant", value);
  if (mode == "reflect") return pad(c, n, "reflect", 0.0);
  if (mode == "replicate") return pad(c, n, "edge", 0.0);
  c.fail(n, "padding mode '" + mode + "' (ONNX opset 17 has constant, reflect, edge)");
}

// aten::_pad_enum(x, pad, mode, value): what F::pad traces to in LibTorch,
// mode an at::padding_mode (reflect 0, replicate 1, circular 2, constant 3).
void pad_with_enum(Converter& c, const Node* n) {
  const int64_t mode = c.integer(n, 2);
  const double value = c.is_none(n->inputs()[3]) ? 0.0 : c.real(n, 3);
  if (mode == 3) return pad(c, n, "constant", value);
  if (mode == 0) return pad(c, n, "reflect", 0.0);
  if (mode == 1) return pad(c, n, "edge", 0.0);
  c.fail(n, "padding mode " + std::to_string(mode) + " (circular; ONNX opset 17 has constant, reflect, edge)");
}

}  // namespace

void add_spatial_ops(HandlerTable& table) {
  // conv{1,2,3}d(x, w, b, stride, padding, dilation, groups)
  const ConvArgs plain{3, 4, 5, 6, -1, false, -1};
  // conv_transpose{1,2,3}d(x, w, b, stride, padding, output_padding, groups, dilation)
  const ConvArgs transposed{3, 4, 7, 6, -1, true, 5};
  // _convolution / convolution(x, w, b, stride, padding, dilation, transposed, output_padding, groups, ...)
  const ConvArgs general{3, 4, 5, 8, 6, false, 7};
  for (const char* op : {"aten::conv1d", "aten::conv2d", "aten::conv3d"}) {
    table[op] = [plain](Converter& c, const Node* n) { convolution(c, n, plain); };
  }
  for (const char* op : {"aten::conv_transpose1d", "aten::conv_transpose2d", "aten::conv_transpose3d"}) {
    table[op] = [transposed](Converter& c, const Node* n) { convolution(c, n, transposed); };
  }
  for (const char* op : {"aten::_convolution", "aten::convolution"}) {
    table[op] = [general](Converter& c, const Node* n) { convolution(c, n, general); };
  }
  table["aten::instance_norm"] = instance_norm;
  table["aten::leaky_relu"] = leaky_relu;
  table["aten::leaky_relu_"] = leaky_relu;
  table["aten::silu"] = silu;
  table["aten::silu_"] = silu;
  table["aten::pad"] = pad_with_mode;
  table["aten::_pad_enum"] = pad_with_enum;
  table["aten::constant_pad_nd"] = [](Converter& c, const Node* n) { pad(c, n, "constant", c.real(n, 2)); };
  for (const char* op : {"aten::replication_pad1d", "aten::replication_pad2d", "aten::replication_pad3d"}) {
    table[op] = [](Converter& c, const Node* n) { pad(c, n, "edge", 0.0); };
  }
  for (const char* op : {"aten::reflection_pad1d", "aten::reflection_pad2d", "aten::reflection_pad3d"}) {
    table[op] = [](Converter& c, const Node* n) { pad(c, n, "reflect", 0.0); };
  }
}

}  // namespace medtrain::exporter::detail
