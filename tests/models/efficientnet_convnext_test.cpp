// EfficientNet-B0 and ConvNeXt-Tiny against torchvision 0.26: torchvision
// models with random weights (and random BatchNorm statistics, LayerNorm
// affines and layer scales: tests/models/zoo_reference.py) saved as .pth or
// safetensors load through models/pretrained, and eval-mode outputs agree to
// 1e-5 relative (fp32, CPU, 64x64). The "grey" case loads 3-channel weights
// into a 1-channel model; the reference is the RGB model on the replicated
// image. Also: names and parameter counts as torchvision's, stochastic depth
// (identity in eval, torchvision's row drop in training), a training step.
#include <gtest/gtest.h>
#include <torch/torch.h>

#include <ostream>
#include <set>
#include <string>

#include "models/cv/stochastic_depth.h"
#include "models/model_error.h"
#include "models/pretrained/load_pretrained.h"
#include "models/registry.h"
#include "models/safetensors.h"
#include "models/state_dict.h"
#include "tests/models/reference_io.h"
#include "tests/models/zoo_reference.h"

namespace fs = std::filesystem;
using namespace medtrain::models;

namespace {

struct Case {
  std::string name;  // folder written by zoo_reference.py
  std::string arch;
  int64_t classes;
  int64_t channels;  // of our model
  std::string file;
  std::string stem;  // the stem weight, summed from 3 channels in the grey cases; else empty
};

// ctest lists each case by this, not by its bytes.
void PrintTo(const Case& c, std::ostream* os) { *os << c.name; }

class NewZooParity : public ::testing::TestWithParam<Case> {};

TEST_P(NewZooParity, MatchesTorchvisionInEvalMode) {
  const Case c = GetParam();
  const fs::path dir = medtrain::testing::zoo_reference(c.name);
  auto model = create_model({c.arch, c.classes, c.channels});
  const auto report = pretrained::load_pretrained(*model, dir / c.file);
  EXPECT_EQ(report.loaded, state_dict(*model).size());
  if (!c.stem.empty()) {
    bool noted = false;
    for (const auto& n : report.notes) noted |= n.find(c.stem + ": summed its 3 input channels") != std::string::npos;
    EXPECT_TRUE(noted) << c.stem;
  }
  EXPECT_LE(medtrain::testing::reference_error(*model, dir), 1e-5) << c.name;
}

INSTANTIATE_TEST_SUITE_P(
    Zoo, NewZooParity,
    ::testing::Values(Case{"efficientnet_b0_c1_pth", "efficientnet_b0", 3, 1, "weights.pth", ""},
                      Case{"convnext_tiny_c3_st", "convnext_tiny", 4, 3, "weights.safetensors", ""},
                      Case{"efficientnet_b0_grey_st", "efficientnet_b0", 2, 1, "weights.safetensors",
                           "features.0.0.weight"}),
    [](const auto& info) { return info.param.name; });

std::set<std::string> keys_of(const torch::nn::Module& model) {
  std::set<std::string> keys;
  for (const auto& [k, _] : state_dict(model)) keys.insert(k);
  return keys;
}

TEST(NewZoo, NamesAndParameterCountsFollowTorchvision) {
  auto eff = create_model({"efficientnet_b0", 1000, 3});
  const auto e = keys_of(*eff);
  EXPECT_EQ(e.size(), 360u);  // len(torchvision.models.efficientnet_b0().state_dict())
  for (const char* k : {"features.0.0.weight", "features.1.0.block.0.0.weight", "features.1.0.block.1.fc1.bias",
                        "features.2.0.block.3.1.running_var", "features.8.1.num_batches_tracked",
                        "classifier.1.weight"}) {
    EXPECT_TRUE(e.count(k)) << k;
  }
  EXPECT_EQ(parameter_count(*eff), 5288548);
  EXPECT_EQ(parameter_count(*create_model({"efficientnet_b0", 10, 3})), 4020358);

  auto cnx = create_model({"convnext_tiny", 1000, 3});
  const auto x = keys_of(*cnx);
  EXPECT_EQ(x.size(), 182u);
  for (const char* k : {"features.0.0.bias", "features.0.1.weight", "features.1.0.layer_scale",
                        "features.1.0.block.2.weight", "features.1.0.block.5.bias", "features.6.1.weight",
                        "features.7.2.block.3.weight", "classifier.0.bias", "classifier.2.weight"}) {
    EXPECT_TRUE(x.count(k)) << k;
  }
  EXPECT_EQ(parameter_count(*cnx), 28589128);
  EXPECT_EQ(parameter_count(*create_model({"convnext_tiny", 10, 3})), 27827818);
}

TEST(StochasticDepth, IdentityInEvalRowDropInTraining) {
  torch::manual_seed(0);
  const torch::Tensor x = torch::rand({4000, 2, 3}) + 1.0;
  EXPECT_TRUE(stochastic_depth(x, 0.3, false).is_same(x));
  EXPECT_TRUE(stochastic_depth(x, 0.0, true).is_same(x));
  const torch::Tensor y = stochastic_depth(x, 0.25, true);
  const torch::Tensor ratio = y / x;
  // Every row is either dropped (0) or kept and scaled by 1 / 0.75, as a whole.
  const torch::Tensor kept = ratio.amax({1, 2}) > 0;
  EXPECT_TRUE(torch::equal(kept, ratio.amin({1, 2}) > 0));
  EXPECT_TRUE(torch::allclose(ratio.index({kept}), torch::full({1}, 1.0 / 0.75), 1e-6, 1e-6));
  const double dropped = 1.0 - kept.to(torch::kFloat).mean().item<double>();
  EXPECT_NEAR(dropped, 0.25, 0.03);  // 4000 rows: 4.6 standard deviations
  EXPECT_TRUE(torch::equal(stochastic_depth(x, 1.0, true), torch::zeros_like(x)));
  EXPECT_THROW(stochastic_depth(x, 1.5, true), ModelError);
}

// In training the residual branches are dropped at random (two forwards of
// the same batch differ; ConvNeXt has no BatchNorm or dropout that could
// explain it), in eval they are not, and an optimizer step moves every
// parameter group and keeps the loss finite.
TEST(NewZoo, TrainingStepRunsAndStochasticDepthIsRandomOnlyInTraining) {
  for (const char* arch : {"efficientnet_b0", "convnext_tiny"}) {
    torch::manual_seed(3);
    auto model = create_model({arch, 3, 1});
    const torch::Tensor x = torch::randn({4, 1, 32, 32});
    const torch::Tensor target = torch::tensor({0, 1, 2, 1});
    model->eval();
    {
      torch::NoGradGuard no_grad;
      EXPECT_TRUE(torch::equal(model->forward(x), model->forward(x))) << arch;
    }
    model->train();
    if (std::string(arch) == "convnext_tiny") {
      // layer_scale 1e-6 makes the branches nearly vanish: scale them up so a dropped one shows.
      torch::NoGradGuard no_grad;
      for (auto& p : model->named_parameters()) {
        if (p.key().find("layer_scale") != std::string::npos) p.value().fill_(1.0);
      }
      EXPECT_FALSE(torch::allclose(model->forward(x), model->forward(x))) << arch;
    }
    const auto before = model->named_parameters()["features.0.0.weight"].clone();
    torch::optim::SGD opt(model->parameters(), torch::optim::SGDOptions(0.1));
    const torch::Tensor loss = torch::nn::functional::cross_entropy(model->forward(x), target);
    ASSERT_TRUE(std::isfinite(loss.item<double>())) << arch;
    opt.zero_grad();
    loss.backward();
    opt.step();
    EXPECT_FALSE(torch::equal(before, model->named_parameters()["features.0.0.weight"])) << arch;
  }
}

TEST(NewZoo, BadArgumentsNameTheModel) {
  EXPECT_THROW(create_model({"efficientnet_b0", 0, 1}), ModelError);
  try {
    create_model({"convnext_tiny", 2, 0});
    FAIL();
  } catch (const ModelError& e) {
    EXPECT_NE(std::string(e.what()).find("convnext_tiny: in_channels"), std::string::npos) << e.what();
  }
}

}  // namespace
