// ResNet parity with torchvision: the reference model is built in Python
// (tests/models/torchvision_reference.py), its weights load into ours by name,
// and eval-mode outputs on the same input agree to 1e-5 relative (fp32, CPU).
#include <gtest/gtest.h>
#include <torch/torch.h>

#include <cstdlib>
#include <filesystem>
#include <string>

#include "models/model_error.h"
#include "models/registry.h"
#include "models/safetensors.h"
#include "models/state_dict.h"
#include "tests/models/reference_io.h"

namespace fs = std::filesystem;
using namespace medtrain::models;

namespace {

fs::path fresh_dir(const std::string& name) {
  fs::path dir = fs::temp_directory_path() / ("medtrain_resnet_" + name + "_" + std::to_string(::getpid()));
  fs::remove_all(dir);
  fs::create_directories(dir);
  return dir;
}

void run_reference(const std::string& arch, int classes, int channels, const fs::path& dir) {
  std::string cmd = std::string(MEDTRAIN_PYTHON) + " " + MEDTRAIN_SOURCE_DIR +
                    "/tests/models/torchvision_reference.py " + arch + " " + std::to_string(classes) +
                    " " + std::to_string(channels) + " " + dir.string();
  ASSERT_EQ(std::system(cmd.c_str()), 0) << "reference failed: " << cmd;
}

struct Case {
  std::string arch;
  int classes;
  int channels;
};

class ResNetParity : public ::testing::TestWithParam<Case> {};

TEST_P(ResNetParity, MatchesTorchvisionInEvalMode) {
  const Case c = GetParam();
  fs::path dir = fresh_dir(c.arch + std::to_string(c.channels));
  run_reference(c.arch, c.classes, c.channels, dir);
  auto model = create_model({c.arch, c.classes, c.channels});
  auto weights = load_safetensors(dir / "weights.safetensors");
  load_state_dict(*model, weights.tensors, {true, {}, "torchvision " + c.arch});
  EXPECT_LE(medtrain::testing::reference_error(*model, dir), 1e-5) << c.arch;
  fs::remove_all(dir);
}

INSTANTIATE_TEST_SUITE_P(Zoo, ResNetParity,
                         ::testing::Values(Case{"resnet18", 2, 1}, Case{"resnet18", 1000, 3},
                                           Case{"resnet34", 5, 1}, Case{"resnet50", 14, 1}),
                         [](const auto& info) {
                           return info.param.arch + "_c" + std::to_string(info.param.channels);
                         });

TEST(ResNet, ParameterNamesFollowTorchvision) {
  auto model = create_model({"resnet50", 10, 3});
  auto names = state_dict(*model);
  std::set<std::string> keys;
  for (const auto& [k, _] : names) keys.insert(k);
  for (const char* k : {"conv1.weight", "bn1.running_var", "layer1.0.downsample.0.weight",
                        "layer1.0.downsample.1.num_batches_tracked", "layer4.2.conv3.weight", "fc.bias"}) {
    EXPECT_TRUE(keys.count(k)) << k;
  }
  EXPECT_EQ(parameter_count(*model), 23528522);  // torchvision resnet50(num_classes=10)
}

TEST(ResNet, WrongWeightsListEveryDifference) {
  auto r18 = create_model({"resnet18", 2, 1});
  auto r34 = create_model({"resnet34", 3, 1});
  try {
    load_state_dict(*r18, state_dict(*r34), {true, {}, "r34.safetensors"});
    FAIL() << "loading resnet34 weights into resnet18 must fail";
  } catch (const ModelError& e) {
    std::string msg = e.what();
    EXPECT_NE(msg.find("r34.safetensors does not fit the model"), std::string::npos) << msg;
    EXPECT_NE(msg.find("shape mismatch: fc.weight [3, 512] vs model [2, 512]"), std::string::npos) << msg;
    EXPECT_NE(msg.find("unexpected: layer1.2.bn1.bias"), std::string::npos) << msg;
  }
}

TEST(ResNet, SkippedHeadLoadsEverythingElse) {
  auto a = create_model({"resnet18", 2, 1});
  auto b = create_model({"resnet18", 7, 1});
  load_state_dict(*b, state_dict(*a), {true, {"fc."}, "a"});
  EXPECT_TRUE(torch::equal(a->named_parameters()["conv1.weight"], b->named_parameters()["conv1.weight"]));
}

TEST(Registry, UnknownModelNamesTheKnownOnes) {
  try {
    create_model({"resnet19", 2, 1});
    FAIL();
  } catch (const ModelError& e) {
    EXPECT_NE(std::string(e.what()).find("unknown model 'resnet19' (known: resnet18, resnet34"),
              std::string::npos) << e.what();
  }
}

}  // namespace
