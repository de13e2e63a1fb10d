#include "trainer/export/torch_to_onnx.h"

#include <torch/csrc/jit/frontend/tracer.h>
#include <torch/csrc/jit/ir/ir.h>
#include <torch/csrc/jit/passes/dead_code_elimination.h>

#include <map>

#include "trainer/export/aten_to_onnx.h"
#include "trainer/user_error.h"

namespace medtrain::exporter {
namespace {

// data_ptr -> state-dict name, so that the tracer's baked-in constants can be
// named after the parameters and buffers they are.
std::map<const void*, std::string> tensor_names(const torch::nn::Module& model) {
  std::map<const void*, std::string> names;
  for (const auto& item : model.named_parameters(/*recurse=*/true)) names.emplace(item.value().data_ptr(), item.key());
  for (const auto& item : model.named_buffers(/*recurse=*/true)) names.emplace(item.value().data_ptr(), item.key());
  return names;
}

}  // namespace

OnnxGraph image_model_to_onnx(models::ImageModel& model, const OnnxExportSpec& spec) {
  model.to(torch::kCPU);
  model.eval();
  for (auto& p : model.parameters()) p.set_requires_grad(false);
  torch::NoGradGuard no_grad;
  const torch::Tensor example = torch::zeros({1, spec.in_channels, spec.image_size, spec.image_size});
  std::shared_ptr<torch::jit::tracer::TracingState> state;
  try {
    state = torch::jit::tracer::trace(
                {example},
                [&model](torch::jit::Stack inputs) -> torch::jit::Stack {
                  return {model.forward(inputs.at(0).toTensor())};
                },
                [](const torch::autograd::Variable&) { return std::string(); }, /*strict=*/false)
                .first;
  } catch (const c10::Error& e) {
    throw UserError("export " + spec.architecture + ": tracing the model's forward failed: " +
                    e.what_without_backtrace());
  }
  torch::jit::EliminateDeadCode(state->graph);
  OnnxGraph graph = traced_graph_to_onnx(*state->graph, tensor_names(model), spec);
  return graph;
}

}  // namespace medtrain::exporter
