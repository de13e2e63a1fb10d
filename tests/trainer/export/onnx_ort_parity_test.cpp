// Exported graphs against an independent runtime: each model is exported
// (random init, eval mode), the ONNX file and LibTorch's logits for a batch of
// 1 and of 2 random inputs are written to a temp folder, and ort_parity.py
// (beside this file) checks the file with onnx's full checker and runs it with
// ONNX Runtime: logits within 1e-4 relative of LibTorch's, probabilities
// within 1e-4 of numpy's softmax / sigmoid of LibTorch's logits.
#include <gtest/gtest.h>
#include <torch/torch.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "data/npy_writer.h"
#include "models/registry.h"
#include "trainer/export/onnx/onnx_graph.h"
#include "trainer/export/torch_to_onnx.h"

namespace medtrain::exporter {
namespace {

namespace fs = std::filesystem;

constexpr double kRel = 1e-4;

struct Folder {
  explicit Folder(const std::string& name)
      : path(fs::temp_directory_path() / ("medtrain_ort_" + name + "_" + std::to_string(::getpid()))) {
    fs::remove_all(path);
    fs::create_directories(path);
  }
  ~Folder() { fs::remove_all(path); }
  fs::path path;
};

struct Checked {
  int status = -1;
  std::string output;
};

// Runs ort_parity.py on `dir`; its output is shown when an expectation fails.
Checked run_ort(const fs::path& dir, const std::string& task) {
  const std::string cmd = std::string(MEDTRAIN_PYTHON) + " " + MEDTRAIN_SOURCE_DIR +
                          "/tests/trainer/export/ort_parity.py " + dir.string() + " " + task + " " +
                          std::to_string(kRel) + " 2>&1";
  Checked out;
  FILE* pipe = ::popen(cmd.c_str(), "r");
  if (pipe == nullptr) return out;
  char buf[512];
  while (std::fgets(buf, sizeof buf, pipe) != nullptr) out.output += buf;
  out.status = ::pclose(pipe);
  return out;
}

void write_npy(const fs::path& path, const torch::Tensor& t) {
  const torch::Tensor c = t.to(torch::kFloat).contiguous();
  data::write_npy_f32(path.string(), c.data_ptr<float>(), c.sizes().vec());
}

// Batch norm's default statistics (mean 0, var 1) would hide a mapping that
// dropped them; random ones make every buffer matter.
void randomize_batch_norm(torch::nn::Module& model) {
  torch::NoGradGuard no_grad;
  for (auto& item : model.named_buffers()) {
    const std::string& name = item.key();
    if (name.size() > 12 && name.compare(name.size() - 12, 12, "running_mean") == 0) item.value().uniform_(-0.5, 0.5);
    if (name.size() > 11 && name.compare(name.size() - 11, 11, "running_var") == 0) item.value().uniform_(0.5, 1.5);
  }
}

// Exports `model` under `spec` into `dir`, with LibTorch's logits for a batch
// of 1 and of 2 (inputs drawn after the export, so the tracer's zeros are not
// what is compared).
void export_with_cases(models::ImageModel& model, const OnnxExportSpec& spec, const fs::path& dir) {
  const std::string bytes = serialize_onnx_model(image_model_to_onnx(model, spec));
  std::ofstream(dir / "model.onnx", std::ios::binary) << bytes;
  torch::NoGradGuard no_grad;
  for (int64_t batch : {1, 2}) {
    std::vector<int64_t> shape = {batch, spec.in_channels};
    if (spec.depth > 0) shape.push_back(spec.depth);
    shape.insert(shape.end(), {spec.image_size, spec.image_size});
    const torch::Tensor x = torch::randn(shape);
    const torch::Tensor logits = model.forward(x);
    const std::string tag = "batch" + std::to_string(batch);
    write_npy(dir / ("input_" + tag + ".npy"), x);
    write_npy(dir / ("logits_" + tag + ".npy"), logits);
  }
}

void expect_parity(const std::string& name, const OnnxExportSpec& spec, int64_t seed) {
  torch::manual_seed(seed);
  auto model = models::create_model({spec.architecture, spec.num_classes, spec.in_channels});
  randomize_batch_norm(*model);
  Folder dir(name);
  export_with_cases(*model, spec, dir.path);
  const Checked r = run_ort(dir.path, spec.task);
  EXPECT_EQ(r.status, 0) << r.output;
  EXPECT_NE(r.output.find("batch2: probabilities"), std::string::npos) << r.output;
}

TEST(OnnxOrtParity, Unet2dSegmentation) {
  expect_parity("unet2d", {"unet2d", 1, 32, 3, kTaskSegmentation, 0}, 1);
}

// 40 is not a multiple of 16: the decoder pads the upsampled map (aten::pad,
// replicate -> ONNX Pad edge) where the encoder's odd size left it one short.
TEST(OnnxOrtParity, Unet2dOddSizePadsLikeLibTorch) {
  expect_parity("unet2d_odd", {"unet2d", 2, 40, 2, kTaskSegmentation, 0}, 2);
}

TEST(OnnxOrtParity, Unet3dSegmentation) {
  expect_parity("unet3d", {"unet3d", 1, 32, 2, kTaskSegmentation, 16}, 3);
}

TEST(OnnxOrtParity, Resnet18Multilabel) {
  expect_parity("resnet18_ml", {"resnet18", 3, 32, 4, kTaskMultilabel, 0}, 4);
}

TEST(OnnxOrtParity, Resnet18MulticlassUnchanged) {
  expect_parity("resnet18_mc", {"resnet18", 1, 32, 3}, 5);
}

// EfficientNet-B0: depthwise convs (group = channels), SiLU as Sigmoid * x,
// squeeze-excitation (global pool, 1x1 convs, sigmoid, broadcast Mul).
TEST(OnnxOrtParity, EfficientNetB0Multiclass) {
  expect_parity("efficientnet_b0", {"efficientnet_b0", 1, 32, 3}, 7);
}

// ConvNeXt-Tiny: permute to NHWC, LayerNormalization, MatMul on 4-D inputs,
// erf GELU, layer-scale Mul; LayerNorm2d before the head. Layer scale is set
// to 0.5 (its 1e-6 init would hide every block's contribution).
TEST(OnnxOrtParity, ConvNeXtTinyMultilabel) {
  torch::manual_seed(8);
  const OnnxExportSpec spec{"convnext_tiny", 3, 32, 4, kTaskMultilabel, 0};
  auto model = models::create_model({spec.architecture, spec.num_classes, spec.in_channels});
  {
    torch::NoGradGuard no_grad;
    for (auto& p : model->named_parameters()) {
      if (p.key().find("layer_scale") != std::string::npos) p.value().fill_(0.5);
    }
  }
  Folder dir("convnext_tiny");
  export_with_cases(*model, spec, dir.path);
  const Checked r = run_ort(dir.path, spec.task);
  EXPECT_EQ(r.status, 0) << r.output;
  EXPECT_NE(r.output.find("batch2: probabilities"), std::string::npos) << r.output;
}

// The check itself can fail: logits 1% off, or probabilities checked as the
// wrong task, are reported as mismatches.
TEST(OnnxOrtParity, CheckerReportsAMismatch) {
  torch::manual_seed(6);
  const OnnxExportSpec spec{"resnet18", 1, 32, 3, kTaskMultilabel, 0};
  auto model = models::create_model({spec.architecture, spec.num_classes, spec.in_channels});
  randomize_batch_norm(*model);
  Folder dir("mismatch");
  export_with_cases(*model, spec, dir.path);
  const Checked wrong_task = run_ort(dir.path, kTaskMulticlass);
  EXPECT_NE(wrong_task.status, 0) << wrong_task.output;
  EXPECT_NE(wrong_task.output.find("probabilities"), std::string::npos) << wrong_task.output;
  EXPECT_NE(wrong_task.output.find("MISMATCH"), std::string::npos) << wrong_task.output;

  fs::remove(dir.path / "input_batch1.npy");
  fs::remove(dir.path / "logits_batch1.npy");
  torch::NoGradGuard no_grad;
  const torch::Tensor x = torch::randn({2, 1, 32, 32});
  write_npy(dir.path / "input_batch2.npy", x);
  write_npy(dir.path / "logits_batch2.npy", model->forward(x) * 1.01 + 0.02);
  const Checked off = run_ort(dir.path, kTaskMultilabel);
  EXPECT_NE(off.status, 0) << off.output;
  EXPECT_NE(off.output.find("batch2: logits"), std::string::npos) << off.output;
  EXPECT_NE(off.output.find("MISMATCH"), std::string::npos) << off.output;
}

}  // namespace
}  // namespace medtrain::exporter
