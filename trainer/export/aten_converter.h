#pragma once
// The state of one traced-graph -> OnnxGraph conversion, shared by the files
// that hold the aten op handlers (aten_to_onnx.cpp: the classifier ops;
// aten_ops_spatial.cpp: convolutions in 1-3 D, transposed convolution,
// instance norm, leaky relu, pad; aten_ops_text.cpp: the ops of a BERT
// encoder). Internal to the exporter.
#include <torch/csrc/jit/ir/constants.h>
#include <torch/csrc/jit/ir/ir.h>

#include <functional>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "trainer/export/onnx/onnx_graph.h"
#include "trainer/export/torch_to_onnx.h"
#include "trainer/user_error.h"

namespace medtrain::exporter::detail {

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

  // An int64 constant input (Pad's pads, Reshape's shape): a fresh initializer.
  std::string int64_initializer(const std::string& stem, std::vector<int64_t> values) {
    std::string name = stem;
    while (used_.count(name)) name += "_";
    used_.insert(name);
    OnnxInitializer init;
    init.name = name;
    init.dims = {static_cast<int64_t>(values.size())};
    init.is_int64 = true;
    init.int64s = std::move(values);
    graph_.initializers.push_back(std::move(init));
    return name;
  }

  // The rank the tracer recorded for a tensor value, or fail.
  int64_t rank(const Node* n, const Value* v) const {
    auto type = v->type()->cast<c10::TensorType>();
    if (!type || !type->dim()) fail(n, "the rank of " + v->debugName() + " is unknown");
    return static_cast<int64_t>(*type->dim());
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
using HandlerTable = std::map<std::string, Handler>;

// ONNX pads list all begins, then all ends; PyTorch's padding is symmetric.
inline std::vector<int64_t> symmetric_pads(const std::vector<int64_t>& padding) {
  std::vector<int64_t> pads = padding;
  pads.insert(pads.end(), padding.begin(), padding.end());
  return pads;
}

// Adds the handlers of aten_ops_spatial.cpp to `table`.
void add_spatial_ops(HandlerTable& table);

// Adds the handlers of aten_ops_text.cpp (BERT encoders) to `table`; replaces
// aten::linear with one that also takes [N, L, features] inputs.
void add_text_ops(HandlerTable& table);

// Every node of a traced forward with one input and one output through the op
// table (aten_to_onnx.cpp): the graph's input is named `input_name`, its output
// "logits". Graph inputs, outputs and opset are left to the caller. UserError
// naming an op without a mapping.
void convert_nodes(Converter& c, const torch::jit::Graph& graph, const std::string& input_name);

}  // namespace medtrain::exporter::detail
