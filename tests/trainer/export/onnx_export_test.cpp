// The ONNX side of export: the plain-C++ graph builder (checker errors are
// reported, not swallowed) and the tracer-based converter, whose node counts
// are checked against a walk of the module tree (an independent count).
#include <gtest/gtest.h>
#include <torch/torch.h>

#include <set>

#include "models/registry.h"
#include "models/state_dict.h"
#include "trainer/export/onnx/onnx_graph.h"
#include "trainer/export/torch_to_onnx.h"
#include "trainer/user_error.h"

namespace medtrain::exporter {
namespace {

OnnxGraph relu_graph() {
  OnnxGraph g;
  g.inputs = {{"x", {{-1, "batch"}, {3, ""}}}};
  g.outputs = {{"y", {{-1, "batch"}, {3, ""}}}};
  g.nodes = {{"Relu", "relu", {"x"}, {"y"}, {}}};
  return g;
}

TEST(OnnxGraph, ValidGraphSerializes) {
  const std::string bytes = serialize_onnx_model(relu_graph());
  EXPECT_GT(bytes.size(), 20u);
  EXPECT_NE(bytes.find("Relu"), std::string::npos);
}

TEST(OnnxGraph, CheckerRejectsAnUndefinedInputNamingIt) {
  OnnxGraph g = relu_graph();
  g.nodes[0].inputs = {"nowhere"};
  try {
    serialize_onnx_model(g);
    FAIL() << "expected OnnxBuildError";
  } catch (const OnnxBuildError& e) {
    EXPECT_NE(std::string(e.what()).find("nowhere"), std::string::npos) << e.what();
  }
}

TEST(OnnxGraph, ShapeInferenceRejectsAWrongDeclaredOutput) {
  OnnxGraph g = relu_graph();
  g.outputs[0].dims[1].size = 4;  // Relu keeps 3 channels
  EXPECT_THROW(serialize_onnx_model(g), OnnxBuildError);
}

TEST(OnnxGraph, InitializerWithTheWrongValueCountIsRejected) {
  OnnxGraph g = relu_graph();
  g.initializers.push_back({"w", {2, 2}, false, {1.f, 2.f, 3.f}, {}});
  EXPECT_THROW(serialize_onnx_model(g), OnnxBuildError);
}

int64_t count_nodes(const OnnxGraph& g, const std::string& op) {
  int64_t n = 0;
  for (const auto& node : g.nodes) n += node.op_type == op ? 1 : 0;
  return n;
}

TEST(TorchToOnnx, Resnet18NodesMatchTheModuleTree) {
  auto model = models::create_model({"resnet18", 3, 1});
  int64_t convs = 0, bns = 0, linears = 0;
  for (const auto& m : model->modules(false)) {
    convs += m->as<torch::nn::Conv2d>() ? 1 : 0;
    bns += m->as<torch::nn::BatchNorm2d>() ? 1 : 0;
    linears += m->as<torch::nn::Linear>() ? 1 : 0;
  }
  std::set<std::string> names;
  for (const auto& [name, t] : models::state_dict(*model)) names.insert(name);
  const OnnxGraph g = image_model_to_onnx(*model, {"resnet18", 1, 32, 3});
  EXPECT_EQ(count_nodes(g, "Conv"), convs);
  EXPECT_EQ(count_nodes(g, "BatchNormalization"), bns);
  EXPECT_EQ(count_nodes(g, "Gemm"), linears);
  EXPECT_EQ(count_nodes(g, "Add"), 8);  // one residual add per BasicBlock: 4 stages x 2
  EXPECT_EQ(g.nodes.back().op_type, "Softmax");
  for (const auto& init : g.initializers) EXPECT_TRUE(names.count(init.name)) << init.name;
  EXPECT_FALSE(serialize_onnx_model(g).empty());
}

// An op outside the table: the error names it and the model.
struct TanhModel : models::ImageModel {
  torch::Tensor forward(torch::Tensor x) override { return torch::tanh(x).flatten(1); }
};

TEST(TorchToOnnx, UnsupportedOpIsAUserErrorNamingIt) {
  TanhModel model;
  try {
    image_model_to_onnx(model, {"tanhnet", 1, 4, 16});
    FAIL() << "expected UserError";
  } catch (const UserError& e) {
    const std::string what = e.what();
    EXPECT_NE(what.find("aten::tanh"), std::string::npos) << what;
    EXPECT_NE(what.find("tanhnet"), std::string::npos) << what;
  }
}

}  // namespace
}  // namespace medtrain::exporter
