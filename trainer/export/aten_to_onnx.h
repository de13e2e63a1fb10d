#pragma once
// The op table of the ONNX exporter: a traced TorchScript graph of aten ops
// -> OnnxGraph nodes and initializers. Internal to torch_to_onnx.cpp (and its
// test); see torch_to_onnx.h for the contract.
#include <map>
#include <string>

#include "trainer/export/onnx/onnx_graph.h"

namespace torch::jit {
struct Graph;
}

namespace medtrain::exporter {

struct OnnxExportSpec;

// `tensor_names`: storage address (data_ptr) of each parameter and buffer ->
// its state-dict name, for naming the initializers the tracer baked in.
// Throws UserError on an op without a mapping or an argument the mapping
// cannot express (e.g. a non-constant kernel size).
OnnxGraph traced_graph_to_onnx(const torch::jit::Graph& graph,
                               const std::map<const void*, std::string>& tensor_names,
                               const OnnxExportSpec& spec);

// The aten ops the table maps, comma-separated, for messages and docs.
std::string supported_aten_ops();

}  // namespace medtrain::exporter
