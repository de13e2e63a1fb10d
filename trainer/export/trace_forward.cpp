#include "trainer/export/trace_forward.h"

#include <torch/csrc/jit/frontend/tracer.h>
#include <torch/csrc/jit/passes/dead_code_elimination.h>
#include <torch/utils.h>

#include "models/model_error.h"
#include "trainer/user_error.h"

namespace medtrain::exporter::detail {
namespace {

std::map<const void*, std::string> tensor_names(const torch::nn::Module& model) {
  std::map<const void*, std::string> names;
  for (const auto& item : model.named_parameters(/*recurse=*/true)) names.emplace(item.value().data_ptr(), item.key());
  for (const auto& item : model.named_buffers(/*recurse=*/true)) names.emplace(item.value().data_ptr(), item.key());
  return names;
}

}  // namespace

TracedForward trace_forward(torch::nn::Module& model, const std::function<torch::Tensor(const torch::Tensor&)>& forward,
                            const torch::Tensor& example, const std::string& failing,
                            const std::string& model_error_hint) {
  model.to(torch::kCPU);
  model.eval();
  for (auto& p : model.parameters()) p.set_requires_grad(false);
  torch::NoGradGuard no_grad;
  std::shared_ptr<torch::jit::tracer::TracingState> state;
  try {
    state = torch::jit::tracer::trace(
                {example},
                [&forward](torch::jit::Stack inputs) -> torch::jit::Stack {
                  return {forward(inputs.at(0).toTensor())};
                },
                [](const torch::autograd::Variable&) { return std::string(); }, /*strict=*/false)
                .first;
  } catch (const c10::Error& e) {
    throw UserError(failing + " failed: " + e.what_without_backtrace());
  } catch (const models::ModelError& e) {
    throw UserError(failing + " failed: " + e.what() + model_error_hint);
  }
  torch::jit::EliminateDeadCode(state->graph);
  return {state->graph, tensor_names(model)};
}

}  // namespace medtrain::exporter::detail
