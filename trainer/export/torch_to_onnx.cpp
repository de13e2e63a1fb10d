#include "trainer/export/torch_to_onnx.h"

#include <torch/csrc/jit/frontend/tracer.h>
#include <torch/csrc/jit/ir/ir.h>
#include <torch/csrc/jit/passes/dead_code_elimination.h>

#include <map>

#include "models/model_error.h"
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

std::string shape_text(const std::vector<int64_t>& shape) {
  std::string out = "[";
  for (size_t i = 0; i < shape.size(); ++i) out += (i ? ", " : "") + std::to_string(shape[i]);
  return out + "]";
}

}  // namespace

void check_export_spec(const OnnxExportSpec& spec) {
  if (spec.task != kTaskMulticlass && spec.task != kTaskMultilabel && spec.task != kTaskSegmentation) {
    throw UserError("export " + spec.architecture + ": task \"" + spec.task + "\" is not one of " + kTaskMulticlass +
                    ", " + kTaskMultilabel + ", " + kTaskSegmentation);
  }
  if (spec.depth < 0) {
    throw UserError("export " + spec.architecture + ": depth must be 0 (2-D input) or the number of slices, got " +
                    std::to_string(spec.depth));
  }
  if (spec.in_channels < 1 || spec.image_size < 1 || spec.num_classes < 1) {
    throw UserError("export " + spec.architecture + ": in_channels, image_size and num_classes must be >= 1");
  }
}

OnnxGraph image_model_to_onnx(models::ImageModel& model, const OnnxExportSpec& spec) {
  check_export_spec(spec);
  model.to(torch::kCPU);
  model.eval();
  for (auto& p : model.parameters()) p.set_requires_grad(false);
  torch::NoGradGuard no_grad;
  std::vector<int64_t> shape = {1, spec.in_channels};
  if (spec.depth > 0) shape.push_back(spec.depth);
  shape.insert(shape.end(), {spec.image_size, spec.image_size});
  const torch::Tensor example = torch::zeros(shape);
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
    throw UserError("export " + spec.architecture + ": tracing the model's forward on " + shape_text(shape) +
                    " failed: " + e.what_without_backtrace());
  } catch (const models::ModelError& e) {  // e.g. a 3-D U-Net given a 2-D input (depth 0)
    throw UserError("export " + spec.architecture + ": tracing the model's forward on " + shape_text(shape) +
                    " failed: " + e.what() +
                    (spec.depth == 0 ? " (depth 0 means a 2-D input; a 3-D model needs depth > 0)" : ""));
  }
  torch::jit::EliminateDeadCode(state->graph);
  OnnxGraph graph = traced_graph_to_onnx(*state->graph, tensor_names(model), spec);
  return graph;
}

}  // namespace medtrain::exporter
