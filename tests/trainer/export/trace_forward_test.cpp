// trace_forward, the first step of image and text ONNX export: the traced
// graph computes the forward, the baked-in tensors are named after the state
// dict, the model is left in eval mode without grad, and a forward that
// throws becomes one UserError naming what was traced (with the hint only
// for a ModelError).
#include "trainer/export/trace_forward.h"

#include <gtest/gtest.h>
#include <torch/csrc/jit/ir/ir.h>
#include <torch/torch.h>

#include <functional>
#include <set>
#include <string>

#include "models/model_error.h"
#include "trainer/user_error.h"

namespace medtrain::exporter::detail {
namespace {

struct TinyImpl : torch::nn::Module {
  TinyImpl() {
    fc = register_module("fc", torch::nn::Linear(3, 2));
    offset = register_buffer("offset", torch::ones({2}));
    drop = register_module("drop", torch::nn::Dropout(0.5));
  }
  torch::Tensor forward(const torch::Tensor& x) { return drop(fc(x)) + offset; }
  torch::nn::Linear fc{nullptr};
  torch::nn::Dropout drop{nullptr};
  torch::Tensor offset;
};
TORCH_MODULE(Tiny);

std::string error_of(const std::function<void()>& f) {
  try {
    f();
  } catch (const UserError& e) {
    return e.what();
  }
  return "";
}

TEST(TraceForward, NamesTheStateDictAndLeavesTheModelInEvalWithoutGrad) {
  Tiny model;
  model->train();
  const auto traced = trace_forward(
      *model, [&model](const torch::Tensor& x) { return model->forward(x); }, torch::zeros({4, 3}), "tiny");
  EXPECT_FALSE(model->is_training());  // else dropout would be traced
  for (const auto& p : model->parameters()) EXPECT_FALSE(p.requires_grad());
  std::set<std::string> names;
  for (const auto& [ptr, name] : traced.tensor_names) names.insert(name);
  EXPECT_EQ(names, (std::set<std::string>{"fc.weight", "fc.bias", "offset"}));
  EXPECT_EQ(traced.tensor_names.at(model->fc->weight.data_ptr()), "fc.weight");
  std::set<std::string> kinds;
  for (const torch::jit::Node* n : traced.graph->nodes()) kinds.insert(n->kind().toQualString());
  EXPECT_TRUE(kinds.count("aten::addmm")) << *traced.graph;  // Linear on a 2-D input
  EXPECT_EQ(traced.graph->inputs().size(), 1u);
  EXPECT_EQ(traced.graph->outputs().size(), 1u);
}

TEST(TraceForward, AModelErrorCarriesTheHint) {
  Tiny model;
  const std::string what = error_of([&] {
    trace_forward(
        *model, [](const torch::Tensor&) -> torch::Tensor { throw models::ModelError("wants 5-D input"); },
        torch::zeros({1, 3}), "export tiny: tracing on [1, 3]", " (a hint)");
  });
  EXPECT_EQ(what, "export tiny: tracing on [1, 3] failed: wants 5-D input (a hint)");
}

TEST(TraceForward, ATorchErrorIsOneLineWithoutTheHint) {
  Tiny model;
  const std::string what = error_of([&] {
    trace_forward(
        *model, [&model](const torch::Tensor& x) { return model->forward(x); }, torch::zeros({1, 7}),
        "export tiny: tracing on [1, 7]", " (a hint)");
  });
  EXPECT_EQ(what.rfind("export tiny: tracing on [1, 7] failed: ", 0), 0u) << what;
  EXPECT_EQ(what.find(" (a hint)"), std::string::npos) << what;
  EXPECT_EQ(what.find("Exception raised from"), std::string::npos) << what;  // no C++ backtrace
}

}  // namespace
}  // namespace medtrain::exporter::detail
