#pragma once
// The first step of every ONNX export (image_model_to_onnx, text_model_to_onnx):
// trace a model's forward on one example batch with LibTorch's tracer and
// name the tensors it baked in after the model's state dict. Internal to the
// exporter.
#include <torch/csrc/jit/ir/ir.h>
#include <torch/nn/module.h>
#include <torch/types.h>

#include <functional>
#include <map>
#include <memory>
#include <string>

namespace medtrain::exporter::detail {

struct TracedForward {
  std::shared_ptr<torch::jit::Graph> graph;  // dead code eliminated
  // data_ptr -> state-dict name of every parameter and buffer, so that the
  // tracer's baked-in constants become initializers named like the model's
  // state dict ("layer1.0.conv1.weight").
  std::map<const void*, std::string> tensor_names;
};

// Moves `model` to the CPU, puts it in eval mode and turns requires_grad off
// on every parameter (the tracer bakes tensors that require grad in as
// errors, not constants; export uses a model built for the purpose, so it is
// left that way), then traces forward(example) without autograd.
// A forward that throws (c10::Error or models::ModelError) is a UserError
// "<failing> failed: <reason>", with `model_error_hint` appended to a
// ModelError's reason.
TracedForward trace_forward(torch::nn::Module& model, const std::function<torch::Tensor(const torch::Tensor&)>& forward,
                            const torch::Tensor& example, const std::string& failing,
                            const std::string& model_error_hint = "");

}  // namespace medtrain::exporter::detail
