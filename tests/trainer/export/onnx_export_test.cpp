// The ONNX side of export: the plain-C++ graph builder (checker errors are
// reported, not swallowed) and the tracer-based converter, whose node counts
// are checked against a walk of the module tree (an independent count).
#include <gtest/gtest.h>
#include <torch/torch.h>

#include <cctype>
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

// EfficientNet-B0 and ConvNeXt-Tiny against their module trees: a Conv per
// convolution (depthwise ones keep group = channels), a BatchNormalization per
// BN (EfficientNet) or a LayerNormalization per LayerNorm (ConvNeXt), a
// residual Add per shape-keeping block, no Dropout node (eval mode).
TEST(TorchToOnnx, EfficientNetB0NodesMatchTheModuleTree) {
  auto model = models::create_model({"efficientnet_b0", 2, 1});
  int64_t convs = 0, depthwise = 0, bns = 0, silus = 0;
  for (const auto& m : model->modules(false)) {
    if (auto* conv = m->as<torch::nn::Conv2d>()) {
      ++convs;
      depthwise += conv->options.groups() > 1 ? 1 : 0;
    }
    bns += m->as<torch::nn::BatchNorm2d>() ? 1 : 0;
    silus += m->as<torch::nn::SiLU>() ? 1 : 0;
  }
  const OnnxGraph g = image_model_to_onnx(*model, {"efficientnet_b0", 1, 32, 2});
  EXPECT_EQ(count_nodes(g, "Conv"), convs);
  int64_t grouped = 0;
  for (const auto& node : g.nodes) {
    for (const auto& a : node.attributes) grouped += node.op_type == "Conv" && a.name == "group" && a.i > 1 ? 1 : 0;
  }
  EXPECT_EQ(grouped, depthwise);
  EXPECT_EQ(depthwise, 16);  // one per MBConv block
  EXPECT_EQ(count_nodes(g, "BatchNormalization"), bns);
  // Sigmoid: one per SiLU module and per SE (16 blocks: its activation and its gate).
  EXPECT_EQ(count_nodes(g, "Sigmoid"), silus + 2 * 16);
  EXPECT_EQ(count_nodes(g, "GlobalAveragePool"), 16 + 1);
  EXPECT_EQ(count_nodes(g, "Add"), 9);  // blocks with stride 1 and equal channels
  EXPECT_EQ(count_nodes(g, "Gemm"), 1);
  EXPECT_FALSE(serialize_onnx_model(g).empty());
}

TEST(TorchToOnnx, ConvNeXtTinyNodesMatchTheModuleTree) {
  auto model = models::create_model({"convnext_tiny", 2, 3});
  int64_t convs = 0, norms = 0;
  for (const auto& m : model->modules(false)) {
    convs += m->as<torch::nn::Conv2d>() ? 1 : 0;
    norms += m->as<torch::nn::LayerNorm>() ? 1 : 0;
  }
  std::set<std::string> names;
  for (const auto& [name, t] : models::state_dict(*model)) names.insert(name);
  const OnnxGraph g = image_model_to_onnx(*model, {"convnext_tiny", 3, 32, 2});
  EXPECT_EQ(count_nodes(g, "Conv"), convs);
  EXPECT_EQ(count_nodes(g, "LayerNormalization"), norms);
  EXPECT_EQ(norms, 18 + 1 + 3 + 1);  // blocks, stem, downsamplers, head
  EXPECT_EQ(count_nodes(g, "Erf"), 18);
  EXPECT_EQ(count_nodes(g, "Gemm"), 1);
  // Weights keep their state-dict names; the rest are constants stemmed from a node output ("t12_one").
  for (const auto& init : g.initializers) {
    EXPECT_TRUE(names.count(init.name) || (init.name.size() > 1 && init.name[0] == 't' && std::isdigit(init.name[1])))
        << init.name;
  }
  EXPECT_FALSE(serialize_onnx_model(g).empty());
}

// An op outside the table: the error names it and the model.
struct SinModel : models::ImageModel {
  torch::Tensor forward(torch::Tensor x) override { return torch::sin(x).flatten(1); }
};

TEST(TorchToOnnx, UnsupportedOpIsAUserErrorNamingIt) {
  SinModel model;
  try {
    image_model_to_onnx(model, {"sinnet", 1, 4, 16});
    FAIL() << "expected UserError";
  } catch (const UserError& e) {
    const std::string what = e.what();
    EXPECT_NE(what.find("aten::sin"), std::string::npos) << what;
    EXPECT_NE(what.find("sinnet"), std::string::npos) << what;
  }
}


// The U-Net's ONNX nodes against a walk of its module tree: one Conv per
// convolution, one ConvTranspose per up-sampling deconv, one
// InstanceNormalization and one LeakyRelu per norm, a MaxPool per Down and a
// Concat per UpCat (4 each); segmentation softmax over the class axis.
template <typename Conv, typename Deconv, typename Norm>
void expect_unet_nodes(const std::string& name, const OnnxExportSpec& spec, const std::vector<int64_t>& spatial) {
  auto model = models::create_model({name, spec.num_classes, spec.in_channels});
  int64_t convs = 0, deconvs = 0, norms = 0;
  for (const auto& m : model->modules(false)) {
    convs += m->as<Conv>() ? 1 : 0;
    deconvs += m->as<Deconv>() ? 1 : 0;
    norms += m->as<Norm>() ? 1 : 0;
  }
  ASSERT_GT(convs, 0);
  std::set<std::string> names;
  for (const auto& [n, t] : models::state_dict(*model)) names.insert(n);
  const OnnxGraph g = image_model_to_onnx(*model, spec);
  EXPECT_EQ(count_nodes(g, "Conv"), convs);
  EXPECT_EQ(count_nodes(g, "ConvTranspose"), deconvs);
  EXPECT_EQ(count_nodes(g, "InstanceNormalization"), norms);
  EXPECT_EQ(count_nodes(g, "LeakyRelu"), norms);
  EXPECT_EQ(count_nodes(g, "MaxPool"), 4);
  EXPECT_EQ(count_nodes(g, "Concat"), 4);
  ASSERT_EQ(g.nodes.back().op_type, "Softmax");
  EXPECT_EQ(g.nodes.back().attributes.at(0).i, 1);
  std::vector<int64_t> out_dims, in_dims;
  for (const auto& d : g.outputs.at(1).dims) out_dims.push_back(d.size);
  for (const auto& d : g.inputs.at(0).dims) in_dims.push_back(d.size);
  std::vector<int64_t> expected_out = {-1, spec.num_classes}, expected_in = {-1, spec.in_channels};
  expected_out.insert(expected_out.end(), spatial.begin(), spatial.end());
  expected_in.insert(expected_in.end(), spatial.begin(), spatial.end());
  EXPECT_EQ(out_dims, expected_out);
  EXPECT_EQ(in_dims, expected_in);
  for (const auto& init : g.initializers) EXPECT_TRUE(names.count(init.name)) << init.name;
  EXPECT_FALSE(serialize_onnx_model(g).empty());  // checker + strict shape inference
}

TEST(TorchToOnnx, Unet2dNodesMatchTheModuleTree) {
  expect_unet_nodes<torch::nn::Conv2dImpl, torch::nn::ConvTranspose2dImpl, torch::nn::InstanceNorm2dImpl>(
      "unet2d", {"unet2d", 1, 32, 3, kTaskSegmentation, 0}, {32, 32});
}

TEST(TorchToOnnx, Unet3dNodesMatchTheModuleTree) {
  expect_unet_nodes<torch::nn::Conv3dImpl, torch::nn::ConvTranspose3dImpl, torch::nn::InstanceNorm3dImpl>(
      "unet3d", {"unet3d", 2, 32, 2, kTaskSegmentation, 16}, {16, 32, 32});
}

TEST(TorchToOnnx, MultilabelProbabilitiesAreASigmoid) {
  auto model = models::create_model({"resnet18", 3, 1});
  const OnnxGraph g = image_model_to_onnx(*model, {"resnet18", 1, 32, 3, kTaskMultilabel, 0});
  EXPECT_EQ(g.nodes.back().op_type, "Sigmoid");
  EXPECT_EQ(count_nodes(g, "Softmax"), 0);
  EXPECT_EQ(g.outputs.at(1).dims.size(), 2u);
}

void expect_user_error(models::ImageModel& model, const OnnxExportSpec& spec, const std::vector<std::string>& parts) {
  try {
    image_model_to_onnx(model, spec);
    FAIL() << "expected UserError";
  } catch (const UserError& e) {
    for (const auto& part : parts) EXPECT_NE(std::string(e.what()).find(part), std::string::npos) << e.what();
  }
}

TEST(TorchToOnnx, UnknownTaskIsAUserErrorNamingIt) {
  auto model = models::create_model({"resnet18", 3, 1});
  expect_user_error(*model, {"resnet18", 1, 32, 3, "regression", 0}, {"resnet18", "\"regression\"", "multilabel"});
  expect_user_error(*model, {"resnet18", 1, 32, 3, kTaskMulticlass, -1}, {"depth", "-1"});
}

TEST(TorchToOnnx, ClassifierExportedAsSegmentationIsRefused) {
  auto model = models::create_model({"resnet18", 3, 1});
  expect_user_error(*model, {"resnet18", 1, 32, 3, kTaskSegmentation, 0},
                    {"resnet18", "segmentation", "2-D logits", "multiclass or multilabel"});
  auto unet = models::create_model({"unet2d", 2, 1});
  expect_user_error(*unet, {"unet2d", 1, 32, 2, kTaskMulticlass, 0}, {"unet2d", "4-D logits", "segmentation"});
}

TEST(TorchToOnnx, Unet3dWithoutDepthSaysSo) {
  auto unet = models::create_model({"unet3d", 2, 1});
  expect_user_error(*unet, {"unet3d", 1, 32, 2, kTaskSegmentation, 0}, {"unet3d", "[1, 1, 32, 32]", "depth"});
}

// A 3-D segmentation model with an op outside the table: still named.
struct Sin3dModel : models::ImageModel {
  torch::Tensor forward(torch::Tensor x) override { return torch::sin(x); }
};

TEST(TorchToOnnx, UnsupportedOpInA3dModelIsNamed) {
  Sin3dModel model;
  expect_user_error(model, {"sin3d", 2, 8, 2, kTaskSegmentation, 4}, {"aten::sin", "sin3d", "aten::conv3d"});
}

}  // namespace
}  // namespace medtrain::exporter
