// The aten -> ONNX op table. Each handler reads the traced node's arguments
// (constants for kernel sizes, strides, eps, ...; baked-in tensors for
// weights) and appends ONNX nodes. Eval-mode semantics throughout: batch norm
// uses its running statistics, dropout is the identity.
#include "trainer/export/aten_to_onnx.h"

#include "trainer/export/aten_converter.h"

namespace medtrain::exporter {
namespace {

using detail::Converter;
using detail::Node;
using detail::Value;
using detail::symmetric_pads;

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

detail::HandlerTable make_table() {
  detail::HandlerTable table = {
      {"aten::batch_norm", batch_norm},
      {"aten::relu", [](Converter& c, const Node* n) { unary(c, n, "Relu"); }},
      {"aten::relu_", [](Converter& c, const Node* n) { unary(c, n, "Relu"); }},
      {"aten::sigmoid", [](Converter& c, const Node* n) { unary(c, n, "Sigmoid"); }},
      {"aten::max_pool2d", max_pool},
      {"aten::max_pool3d", max_pool},
      {"aten::avg_pool2d", avg_pool},
      {"aten::avg_pool3d", avg_pool},
      {"aten::adaptive_avg_pool2d", adaptive_avg_pool},
      {"aten::adaptive_avg_pool3d", adaptive_avg_pool},
      {"aten::flatten", flatten},
      {"aten::linear", linear},
      {"aten::t", transpose},
      {"aten::addmm", addmm},
      {"aten::matmul", matmul},
      {"aten::add", add},
      {"aten::add_", add},
      {"aten::cat", cat},
      {"aten::contiguous", [](Converter& c, const Node* n) { c.alias(n); }},
  };
  // Dropout in eval mode (export traces in eval mode) is the identity.
  for (const char* op : {"aten::dropout", "aten::dropout_", "aten::feature_dropout", "aten::feature_dropout_",
                         "aten::alpha_dropout", "aten::alpha_dropout_", "aten::feature_alpha_dropout",
                         "aten::feature_alpha_dropout_"}) {
    table[op] = [](Converter& c, const Node* n) {
      if (c.boolean(n, 2)) c.fail(n, "dropout in training mode (export puts the model in eval mode)");
      c.alias(n);
    };
  }
  detail::add_spatial_ops(table);
  detail::add_text_ops(table);
  return table;
}

const detail::HandlerTable& handlers() {
  static const detail::HandlerTable kTable = make_table();
  return kTable;
}

// Nodes that only feed arguments to others: read through them by handlers.
bool is_argument_node(const Node* n) {
  return n->kind() == c10::prim::Constant || n->kind() == c10::prim::ListConstruct;
}

int64_t expected_output_rank(const OnnxExportSpec& spec) {
  if (spec.task != kTaskSegmentation) return 2;  // [N, K]
  return spec.depth > 0 ? 5 : 4;                 // [N, K, (D,) S, S]
}

// A classifier exported as segmentation (or the reverse) would give a graph
// whose outputs mean something else than model.yaml says: refuse it here,
// with the task the model looks like.
void check_output_rank(const Value* logits, const OnnxExportSpec& spec) {
  auto type = logits->type()->cast<c10::TensorType>();
  if (!type || !type->dim()) return;  // left to ONNX shape inference
  const auto rank = static_cast<int64_t>(*type->dim());
  const int64_t expected = expected_output_rank(spec);
  if (rank == expected) return;
  throw UserError("export " + spec.architecture + ": task " + spec.task + " expects " + std::to_string(expected) +
                  "-D logits " + (expected == 2 ? "[N, K]" : expected == 4 ? "[N, K, S, S]" : "[N, K, D, S, S]") +
                  " but the model returns " + std::to_string(rank) + "-D logits" +
                  (rank == 2 ? " (a classifier: task multiclass or multilabel)"
                             : " (per-pixel logits: task segmentation, with depth for a 3-D input)"));
}

// [batch, K] or [batch, K, *spatial]; the spatial sizes are those the tracer
// recorded for the example input (a U-Net keeps the input's), else the spec's.
std::vector<OnnxDim> output_dims(const Value* logits, const OnnxExportSpec& spec) {
  std::vector<OnnxDim> dims = {{-1, "batch"}, {spec.num_classes, ""}};
  const int64_t rank = expected_output_rank(spec);
  auto type = logits->type()->cast<c10::TensorType>();
  const auto sizes = type ? type->sizes().concrete_sizes() : std::nullopt;
  for (int64_t d = 2; d < rank; ++d) {
    const bool is_depth = rank == 5 && d == 2;
    const int64_t fallback = is_depth ? spec.depth : spec.image_size;
    dims.push_back({sizes && static_cast<int64_t>(sizes->size()) == rank ? (*sizes)[d] : fallback, ""});
  }
  return dims;
}

}  // namespace

namespace detail {

void convert_nodes(Converter& c, const torch::jit::Graph& graph, const std::string& input_name) {
  c.names()[graph.inputs()[0]] = input_name;
  c.names()[graph.outputs()[0]] = kOnnxLogits;
  for (const Node* n : graph.nodes()) {
    if (is_argument_node(n)) continue;
    auto it = handlers().find(n->kind().toQualString());
    if (it == handlers().end()) {
      throw UserError("export " + c.spec().architecture + ": the model uses " + n->kind().toQualString() +
                      ", which the ONNX exporter does not map (trainer/export/aten_to_onnx.cpp maps: " +
                      supported_aten_ops() + ")");
    }
    it->second(c, n);
  }
  if (c.graph().nodes.empty() || c.graph().nodes.back().outputs[0] != kOnnxLogits) {
    // The output was an alias (e.g. a trailing dropout): give it its name.
    c.emit("Identity", {c.names().at(graph.outputs()[0])}, {kOnnxLogits});
  }
}

}  // namespace detail

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
  check_export_spec(spec);
  check_output_rank(graph.outputs()[0], spec);
  Converter c(tensor_names, spec);
  detail::convert_nodes(c, graph, kOnnxInput);
  if (spec.task == kTaskMultilabel) {
    c.emit("Sigmoid", {kOnnxLogits}, {kOnnxProbabilities});
  } else {  // multiclass [N, K] and segmentation [N, K, *spatial]: over the class axis
    c.emit("Softmax", {kOnnxLogits}, {kOnnxProbabilities}, {OnnxAttribute::integer("axis", 1)});
  }
  OnnxGraph out = std::move(c.graph());
  out.name = spec.architecture;
  out.opset = kOnnxOpset;
  const OnnxDim batch{-1, "batch"};
  std::vector<OnnxDim> input = {batch, {spec.in_channels, ""}};
  if (spec.depth > 0) input.push_back({spec.depth, ""});
  input.insert(input.end(), {{spec.image_size, ""}, {spec.image_size, ""}});
  out.inputs = {{kOnnxInput, input}};
  const std::vector<OnnxDim> logits = output_dims(graph.outputs()[0], spec);
  out.outputs = {{kOnnxLogits, logits}, {kOnnxProbabilities, logits}};
  return out;
}

}  // namespace medtrain::exporter
