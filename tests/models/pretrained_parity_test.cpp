// Pretrained weights as users have them: torchvision models built in Python
// (tests/models/zoo_reference.py) and saved with torch.save (.pth) or as
// safetensors load through models/pretrained into our architectures, and
// eval-mode outputs agree with torchvision's to 1e-5 relative (fp32, CPU).
// Also the 1-channel adaptation (reference: the RGB model on the grey image
// replicated to 3 channels) and the renames (DenseNet legacy names, "module."
// prefix, a top-level "state_dict" key).
#include <gtest/gtest.h>
#include <torch/torch.h>

#include <cstdlib>
#include <filesystem>
#include <memory>
#include <string>

#include "models/pretrained/load_pretrained.h"
#include "models/registry.h"
#include "models/safetensors.h"
#include "models/state_dict.h"
#include "tests/models/reference_io.h"
#include "tests/models/zoo_reference.h"

namespace fs = std::filesystem;
using namespace medtrain::models;
using medtrain::models::pretrained::load_pretrained;
using medtrain::models::pretrained::PretrainedReport;
using medtrain::testing::find_tensor;
using medtrain::testing::relative_error;

namespace {

bool has_note(const PretrainedReport& r, const std::string& text) {
  for (const auto& n : r.notes) {
    if (n.find(text) != std::string::npos) return true;
  }
  return false;
}

struct Case {
  std::string name;  // folder written by zoo_reference.py
  std::string arch;
  int64_t classes;
  int64_t channels;  // of our model
  std::string file;  // weights.pth | weights.safetensors
  bool channels_last = false;
};

class PretrainedParity : public ::testing::TestWithParam<Case> {};

TEST_P(PretrainedParity, MatchesTorchvisionInEvalMode) {
  const Case c = GetParam();
  const fs::path dir = medtrain::testing::zoo_reference(c.name);
  auto model = create_model({c.arch, c.classes, c.channels});
  const PretrainedReport report = load_pretrained(*model, dir / c.file);
  EXPECT_EQ(report.format, c.file == "weights.pth" ? "PyTorch zip" : "safetensors");
  EXPECT_EQ(report.loaded, state_dict(*model).size());
  model->eval();
  auto io = load_safetensors(dir / "io.safetensors").tensors;
  torch::Tensor x = find_tensor(io, "input");
  if (c.channels_last) {
    // As the trainer does for model.channels_last: the 4-D weights and the input.
    for (auto& p : model->parameters()) {
      if (p.dim() == 4) p.set_data(p.data().contiguous(torch::MemoryFormat::ChannelsLast));
    }
    x = x.contiguous(torch::MemoryFormat::ChannelsLast);
  }
  torch::NoGradGuard no_grad;
  const torch::Tensor ours = model->forward(x);
  const torch::Tensor ref = find_tensor(io, "output");
  ASSERT_EQ(ours.sizes(), ref.sizes());
  EXPECT_LE(relative_error(ours, ref), 1e-5) << c.name;
}

INSTANTIATE_TEST_SUITE_P(
    Zoo, PretrainedParity,
    ::testing::Values(Case{"resnet18_c1_pth", "resnet18", 3, 1, "weights.pth"},
                      Case{"resnet34_c3_st", "resnet34", 5, 3, "weights.safetensors"},
                      Case{"resnet50_c1_pth", "resnet50", 4, 1, "weights.pth", true},
                      Case{"resnet101_c3_st", "resnet101", 2, 3, "weights.safetensors"},
                      Case{"densenet121_c1_pth", "densenet121", 3, 1, "weights.pth", true},
                      Case{"densenet169_c3_st", "densenet169", 2, 3, "weights.safetensors"}),
    [](const auto& info) { return info.param.name + (info.param.channels_last ? "_channels_last" : ""); });

// A 1-channel model from 3-channel weights computes, on a grey image, what the
// RGB model computes on that image replicated to 3 channels.
TEST(PretrainedGrey, SummedStemMatchesRgbModelOnReplicatedImage) {
  const fs::path dir = medtrain::testing::zoo_reference("resnet18_grey_st");
  auto model = create_model({"resnet18", 2, 1});
  const auto report = load_pretrained(*model, dir / "weights.safetensors");
  EXPECT_TRUE(has_note(report, "conv1.weight: summed its 3 input channels [64, 3, 7, 7] -> [64, 1, 7, 7]"));
  EXPECT_LE(medtrain::testing::reference_error(*model, dir), 1e-5);
}

// torchvision's published DenseNet files use the legacy torch.save format and
// legacy names; training scripts add "module." (DDP) and wrap the state dict
// under "state_dict".
TEST(PretrainedGrey, WrappedLegacyDenseNetCheckpointLoads) {
  const fs::path dir = medtrain::testing::zoo_reference("densenet121_wrapped_pth");
  auto model = create_model({"densenet121", 2, 1});
  const auto report = load_pretrained(*model, dir / "weights.pth");
  EXPECT_EQ(report.format, "PyTorch legacy");
  EXPECT_TRUE(has_note(report, "top-level key \"state_dict\"")) << report.notes.size();
  EXPECT_TRUE(has_note(report, "dropped the prefix \"module.\""));
  // 58 dense layers x (norm1 4 + conv1 1 + norm2 4 + conv2 1), as torchvision's regex matches
  EXPECT_TRUE(has_note(report, "renamed 580 legacy DenseNet keys"));
  EXPECT_TRUE(has_note(report, "121 BatchNorm num_batches_tracked counters"));
  EXPECT_TRUE(has_note(report, "features.conv0.weight: summed its 3 input channels"));
  EXPECT_LE(medtrain::testing::reference_error(*model, dir), 1e-5);
}

TEST(DenseNet, ParameterCountsMatchTorchvision) {
  // torchvision densenet121() / densenet169() with 1000 classes: 7,978,856 and 14,149,480.
  EXPECT_EQ(parameter_count(*create_model({"densenet121", 1000, 3})), 7978856);
  EXPECT_EQ(parameter_count(*create_model({"densenet169", 1000, 3})), 14149480);
  EXPECT_EQ(parameter_count(*create_model({"resnet101", 1000, 3})), 44549160);
}

}  // namespace
