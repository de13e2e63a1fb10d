// The aten -> ONNX op table. Each handler reads the traced node's arguments
// (constants for kernel sizes, strides, eps, ...; baked-in tensors for
// weights) and appends ONNX nodes. Eval-mode semantics throughout: batch norm
// uses its running statistics, dropout is the identity.
#include "trainer/export/aten_to_onnx.h"

#include <torch/csrc/jit/ir/constants.h>
#include <torch/csrc/jit/ir/ir.h>

#include <functional>
#include <set>
#include <unordered_map>

#include "trainer/export/torch_to_onnx.h"
#include "trainer/user_error.h"

namespace medtrain::exporter {
namespace {

using torch::jit::Node;
using torch::jit::Value;

class Converter {
 public:
  Converter(const std::map<const void*, std::string>& tensor_names, const OnnxExportSpec& spec)
      : tensor_names_(tensor_names), spec_(spec) {}

  [[noreturn]] void fail(const Node* n, const std::string& why) const {
    throw UserError("export " + spec_.architecture + ": cannot express " + n->kind().toQualString() +
                    " in ONNX: " + why);
  }

  // The ONNX name of a tensor value: a node output seen before, the graph
  // input, or a tensor baked in by the tracer (becomes an initializer once).
  std::string tensor(const Node* n, const Value* v) {
    if (auto it = names_.find(v); it != names_.end()) return it->second;
    if (auto t = transposed_.find(v); t != transposed_.end()) {  // used other than by addmm: transpose it here
      const std::string name = output(v);
      emit("Transpose", {tensor(n, t->second)}, {name}, {OnnxAttribute::integers("perm", {1, 0})});
      return name;
    }
    auto iv = torch::jit::toIValue(v);
    if (!iv || !iv->isTensor()) fail(n, "input " + v->debugName() + " is neither computed nor a constant tensor");
    const at::Tensor t = iv->toTensor();
    auto named = tensor_names_.find(t.data_ptr());
    std::string name = named != tensor_names_.end() ? named->second : "const_" + std::to_string(names_.size());
    while (used_.count(name)) name += "_";
    add_initializer(name, t);
    names_[v] = name;
    return name;
  }

  void add_initializer(const std::string& name, const at::Tensor& t) {
    used_.insert(name);
    OnnxInitializer init;
    init.name = name;
    init.dims = t.sizes().vec();
    const at::Tensor f = t.detach().to(at::kCPU, at::kFloat).contiguous();
    init.floats.assign(f.data_ptr<float>(), f.data_ptr<float>() + f.numel());
    graph_.initializers.push_back(std::move(init));
  }

  bool is_none(const Value* v) const { return v->type()->kind() == c10::TypeKind::NoneType; }

  c10::IValue constant(const Node* n, const Value* v) const {
    auto iv = torch::jit::toIValue(v);
    if (!iv) fail(n, "argument " + v->debugName() + " is computed at run time; only constants are supported");
    return *iv;
  }
  int64_t integer(const Node* n, size_t i) const { return constant(n, n->inputs()[i]).toInt(); }
  double real(const Node* n, size_t i) const { return constant(n, n->inputs()[i]).toScalar().toDouble(); }
  bool boolean(const Node* n, size_t i) const { return constant(n, n->inputs()[i]).toBool(); }

  // An int[] argument: a list constant or a prim::ListConstruct of constants.
  std::vector<int64_t> ints(const Node* n, size_t i) const {
    const Value* v = n->inputs()[i];
    if (v->node()->kind() == c10::prim::ListConstruct) {
      std::vector<int64_t> out;
      for (const Value* e : v->node()->inputs()) out.push_back(constant(n, e).toInt());
      return out;
    }
    return constant(n, v).toIntVector();
  }

  // Node outputs get fresh names; the traced graph's output is "logits".
  std::string output(const Value* v) {
    auto it = names_.find(v);
    if (it != names_.end()) return it->second;
    std::string name = "t" + std::to_string(names_.size());
    names_[v] = name;
    return name;
  }

  void emit(const std::string& op, std::vector<std::string> inputs, std::vector<std::string> outputs,
            std::vector<OnnxAttribute> attributes = {}) {
    OnnxNode node;
    node.op_type = op;
    node.name = op + "_" + std::to_string(graph_.nodes.size());
    node.inputs = std::move(inputs);
    node.outputs = std::move(outputs);
    node.attributes = std::move(attributes);
    graph_.nodes.push_back(std::move(node));
  }

  // The same value under a second name (an op that is the identity in eval mode).
  void alias(const Node* n) { names_[n->outputs()[0]] = tensor(n, n->inputs()[0]); }

  // aten::t of a weight: remembered, so that addmm can use Gemm's transB on the
  // weight as stored (initializers keep the state dict's layout and names).
  void set_transposed(const Value* out, const Value* in) { transposed_[out] = in; }
  const Value* transposed_source(const Value* v) const {
    auto it = transposed_.find(v);
    return it == transposed_.end() ? nullptr : it->second;
  }

  std::map<const Value*, std::string>& names() { return names_; }
  OnnxGraph& graph() { return graph_; }
  const OnnxExportSpec& spec() const { return spec_; }

 private:
  const std::map<const void*, std::string>& tensor_names_;
  const OnnxExportSpec& spec_;
  std::map<const Value*, std::string> names_;
  std::set<std::string> used_;
  std::map<const Value*, const Value*> transposed_;
  OnnxGraph graph_;
};

using Handler = std::function<void(Converter&, const Node*)>;

std::vector<int64_t> symmetric_pads(const std::vector<int64_t>& padding) {
  std::vector<int64_t> pads = padding;  // ONNX: all begins, then all ends
  pads.insert(pads.end(), padding.begin(), padding.end());
  return pads;
}

// conv2d(x, w, b, stride, padding, dilation, groups) and
// _convolution / convolution(x, w, b, stride, padding, dilation, transposed, output_padding, groups, ...)
void convolution(Converter& c, const Node* n, bool with_transposed) {
  if (n->inputs()[4]->type()->kind() == c10::TypeKind::StringType) c.fail(n, "string padding ('same'/'valid')");
  if (with_transposed && c.boolean(n, 6)) c.fail(n, "transposed convolution");
  const int64_t groups = c.integer(n, with_transposed ? 8 : 6);
  const at::Tensor w = c.constant(n, n->inputs()[1]).toTensor();
  std::vector<int64_t> kernel(w.sizes().begin() + 2, w.sizes().end());
  std::vector<std::string> inputs = {c.tensor(n, n->inputs()[0]), c.tensor(n, n->inputs()[1])};
  if (!c.is_none(n->inputs()[2])) inputs.push_back(c.tensor(n, n->inputs()[2]));
  c.emit("Conv", inputs, {c.output(n->outputs()[0])},
         {OnnxAttribute::integers("kernel_shape", kernel), OnnxAttribute::integers("strides", c.ints(n, 3)),
          OnnxAttribute::integers("pads", symmetric_pads(c.ints(n, 4))),
          OnnxAttribute::integers("dilations", c.ints(n, 5)), OnnxAttribute::integer("group", groups)});
}

// batch_norm(x, weight, bias, running_mean, running_var, training, momentum, eps, cudnn_enabled)
void batch_norm(Converter& c, const Node* n) {
  if (c.boolean(n, 5)) c.fail(n, "batch norm in training mode (export puts the model in eval mode)");
  if (c.is_none(n->inputs()[3])) c.fail(n, "batch norm without running statistics");
  const at::Tensor mean = c.constant(n, n->inputs()[3]).toTensor();
  auto param = [&](size_t i, float fill, const char* what) {
    if (!c.is_none(n->inputs()[i])) return c.tensor(n, n->inputs()[i]);
    const std::string name = c.output(n->outputs()[0]) + "_" + what;
    c.add_initializer(name, at::full(mean.sizes(), fill, at::kFloat));
    return name;
  };
  const std::string scale = param(1, 1.0f, "scale"), bias = param(2, 0.0f, "bias");
  c.emit("BatchNormalization",
         {c.tensor(n, n->inputs()[0]), scale, bias, c.tensor(n, n->inputs()[3]), c.tensor(n, n->inputs()[4])},
         {c.output(n->outputs()[0])}, {OnnxAttribute::real("epsilon", static_cast<float>(c.real(n, 7)))});
}

// max_pool2d(x, kernel, stride, padding, dilation, ceil_mode); stride [] = kernel
void max_pool(Converter& c, const Node* n) {
  const auto kernel = c.ints(n, 1);
  auto stride = c.ints(n, 2);
  if (stride.empty()) stride = kernel;
  c.emit("MaxPool", {c.tensor(n, n->inputs()[0])}, {c.output(n->outputs()[0])},
         {OnnxAttribute::integers("kernel_shape", kernel), OnnxAttribute::integers("strides", stride),
          OnnxAttribute::integers("pads", symmetric_pads(c.ints(n, 3))),
          OnnxAttribute::integers("dilations", c.ints(n, 4)),
          OnnxAttribute::integer("ceil_mode", c.boolean(n, 5) ? 1 : 0)});
}

// avg_pool2d(x, kernel, stride, padding, ceil_mode, count_include_pad, divisor_override)
void avg_pool(Converter& c, const Node* n) {
  if (!c.is_none(n->inputs()[6])) c.fail(n, "divisor_override");
  const auto kernel = c.ints(n, 1);
  auto stride = c.ints(n, 2);
  if (stride.empty()) stride = kernel;
  c.emit("AveragePool", {c.tensor(n, n->inputs()[0])}, {c.output(n->outputs()[0])},
         {OnnxAttribute::integers("kernel_shape", kernel), OnnxAttribute::integers("strides", stride),
          OnnxAttribute::integers("pads", symmetric_pads(c.ints(n, 3))),
          OnnxAttribute::integer("ceil_mode", c.boolean(n, 4) ? 1 : 0),
          OnnxAttribute::integer("count_include_pad", c.boolean(n, 5) ? 1 : 0)});
}

void adaptive_avg_pool(Converter& c, const Node* n) {
  for (int64_t s : c.ints(n, 1)) {
    if (s != 1) c.fail(n, "adaptive average pooling to a size other than 1x1");
  }
  c.emit("GlobalAveragePool", {c.tensor(n, n->inputs()[0])}, {c.output(n->outputs()[0])});
}

// flatten(x, start, end): ONNX Flatten(axis) is flatten(axis, -1) for axis >= 1.
void flatten(Converter& c, const Node* n) {
  const int64_t start = c.integer(n, 1), end = c.integer(n, 2);
  auto type = n->inputs()[0]->type()->cast<c10::TensorType>();
  const auto rank = type ? type->dim() : std::nullopt;
  if (start < 1 || !(end == -1 || (rank && end == static_cast<int64_t>(*rank) - 1))) {
    c.fail(n, "flatten(" + std::to_string(start) + ", " + std::to_string(end) + "); only flatten(k >= 1, -1)");
  }
  c.emit("Flatten", {c.tensor(n, n->inputs()[0])}, {c.output(n->outputs()[0])},
         {OnnxAttribute::integer("axis", start)});
}

// linear(x, weight, bias) = x @ weight^T + bias, for x [N, in].
void linear(Converter& c, const Node* n) {
  auto type = n->inputs()[0]->type()->cast<c10::TensorType>();
  if (!type || type->dim() != 2) c.fail(n, "linear on an input that is not 2-D [N, features]");
  std::vector<std::string> inputs = {c.tensor(n, n->inputs()[0]), c.tensor(n, n->inputs()[1])};
  if (!c.is_none(n->inputs()[2])) inputs.push_back(c.tensor(n, n->inputs()[2]));
  c.emit("Gemm", inputs, {c.output(n->outputs()[0])}, {OnnxAttribute::integer("transB", 1)});
}

// t(x): a 2-D transpose. Of a weight (a constant) it is deferred: see set_transposed.
void transpose(Converter& c, const Node* n) {
  if (torch::jit::toIValue(n->inputs()[0])) {
    c.set_transposed(n->outputs()[0], n->inputs()[0]);
    return;
  }
  c.emit("Transpose", {c.tensor(n, n->inputs()[0])}, {c.output(n->outputs()[0])},
         {OnnxAttribute::integers("perm", {1, 0})});
}

// addmm(bias, x, w, beta, alpha) = beta * bias + alpha * (x @ w): Gemm, with
// transB when w is t(weight) (how LibTorch's linear decomposes).
void addmm(Converter& c, const Node* n) {
  const Value* mat2 = n->inputs()[2];
  const Value* source = c.transposed_source(mat2);
  c.emit("Gemm", {c.tensor(n, n->inputs()[1]), c.tensor(n, source ? source : mat2), c.tensor(n, n->inputs()[0])},
         {c.output(n->outputs()[0])},
         {OnnxAttribute::real("beta", static_cast<float>(c.real(n, 3))),
          OnnxAttribute::real("alpha", static_cast<float>(c.real(n, 4))),
          OnnxAttribute::integer("transB", source ? 1 : 0)});
}

void matmul(Converter& c, const Node* n) {
  c.emit("MatMul", {c.tensor(n, n->inputs()[0]), c.tensor(n, n->inputs()[1])}, {c.output(n->outputs()[0])});
}

// add(a, b, alpha) with alpha 1; a tensor b only (a scalar b would be a
// non-tensor constant).
void add(Converter& c, const Node* n) {
  if (n->inputs().size() > 2 && c.constant(n, n->inputs()[2]).toScalar().toDouble() != 1.0) c.fail(n, "alpha != 1");
  c.emit("Add", {c.tensor(n, n->inputs()[0]), c.tensor(n, n->inputs()[1])}, {c.output(n->outputs()[0])});
}

// cat(tensors, dim): the list is a prim::ListConstruct of traced tensors.
void cat(Converter& c, const Node* n) {
  const Value* list = n->inputs()[0];
  if (list->node()->kind() != c10::prim::ListConstruct) c.fail(n, "a tensor list not built in the graph");
  std::vector<std::string> inputs;
  for (const Value* v : list->node()->inputs()) inputs.push_back(c.tensor(n, v));
  c.emit("Concat", inputs, {c.output(n->outputs()[0])}, {OnnxAttribute::integer("axis", c.integer(n, 1))});
}

void unary(Converter& c, const Node* n, const char* op) {
  c.emit(op, {c.tensor(n, n->inputs()[0])}, {c.output(n->outputs()[0])});
}

const std::map<std::string, Handler>& handlers() {
  static const std::map<std::string, Handler> kTable = {
      {"aten::conv2d", [](Converter& c, const Node* n) { convolution(c, n, false); }},
      {"aten::_convolution", [](Converter& c, const Node* n) { convolution(c, n, true); }},
      {"aten::convolution", [](Converter& c, const Node* n) { convolution(c, n, true); }},
      {"aten::batch_norm", batch_norm},
      {"aten::relu", [](Converter& c, const Node* n) { unary(c, n, "Relu"); }},
      {"aten::relu_", [](Converter& c, const Node* n) { unary(c, n, "Relu"); }},
      {"aten::sigmoid", [](Converter& c, const Node* n) { unary(c, n, "Sigmoid"); }},
      {"aten::max_pool2d", max_pool},
      {"aten::avg_pool2d", avg_pool},
      {"aten::adaptive_avg_pool2d", adaptive_avg_pool},
      {"aten::flatten", flatten},
      {"aten::linear", linear},
      {"aten::t", transpose},
      {"aten::addmm", addmm},
      {"aten::matmul", matmul},
      {"aten::add", add},
      {"aten::add_", add},
      {"aten::cat", cat},
      {"aten::dropout", [](Converter& c, const Node* n) { c.alias(n); }},
      {"aten::contiguous", [](Converter& c, const Node* n) { c.alias(n); }},
  };
  return kTable;
}

// Nodes that only feed arguments to others: read through them by handlers.
bool is_argument_node(const Node* n) {
  return n->kind() == c10::prim::Constant || n->kind() == c10::prim::ListConstruct;
}

}  // namespace

std::string supported_aten_ops() {
  std::string out;
  for (const auto& [name, handler] : handlers()) out += (out.empty() ? "" : ", ") + name;
  return out;
}

OnnxGraph traced_graph_to_onnx(const torch::jit::Graph& graph,
                               const std::map<const void*, std::string>& tensor_names,
                               const OnnxExportSpec& spec) {
  if (graph.inputs().size() != 1 || graph.outputs().size() != 1) {
    throw UserError("export " + spec.architecture + ": the traced forward has " +
                    std::to_string(graph.inputs().size()) + " inputs and " + std::to_string(graph.outputs().size()) +
                    " outputs; an image classifier has one of each");
  }
  Converter c(tensor_names, spec);
  c.names()[graph.inputs()[0]] = kOnnxInput;
  c.names()[graph.outputs()[0]] = kOnnxLogits;
  for (const Node* n : graph.nodes()) {
    if (is_argument_node(n)) continue;
    auto it = handlers().find(n->kind().toQualString());
    if (it == handlers().end()) {
      throw UserError("export " + spec.architecture + ": the model uses " + n->kind().toQualString() +
                      ", which the ONNX exporter does not map (trainer/export/aten_to_onnx.cpp maps: " +
                      supported_aten_ops() + ")");
    }
    it->second(c, n);
  }
  if (c.graph().nodes.empty() || c.graph().nodes.back().outputs[0] != kOnnxLogits) {
    // The output was an alias (e.g. a trailing dropout): give it its name.
    c.emit("Identity", {c.names().at(graph.outputs()[0])}, {kOnnxLogits});
  }
  c.emit("Softmax", {kOnnxLogits}, {kOnnxProbabilities}, {OnnxAttribute::integer("axis", 1)});
  OnnxGraph out = std::move(c.graph());
  out.name = spec.architecture;
  out.opset = kOnnxOpset;
  const OnnxDim batch{-1, "batch"};
  out.inputs = {{kOnnxInput, {batch, {spec.in_channels, ""}, {spec.image_size, ""}, {spec.image_size, ""}}}};
  out.outputs = {{kOnnxLogits, {batch, {spec.num_classes, ""}}},
                 {kOnnxProbabilities, {batch, {spec.num_classes, ""}}}};
  return out;
}

}  // namespace medtrain::exporter
