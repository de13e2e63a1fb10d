// Optimizer state survives a trip through its checkpoint form bit for bit:
// an optimizer rebuilt from the saved state takes exactly the same next steps.
#include <gtest/gtest.h>
#include <torch/torch.h>

#include "models/registry.h"
#include "models/state_dict.h"
#include "trainer/engine/optimizer_factory.h"
#include "trainer/user_error.h"

using namespace medtrain;

namespace {

void train_steps(models::ImageModel& model, torch::optim::Optimizer& opt, int steps, int seed) {
  torch::manual_seed(seed);
  for (int i = 0; i < steps; ++i) {
    auto x = torch::randn({4, 1, 32, 32});
    auto y = torch::randint(0, 2, {4});
    opt.zero_grad();
    torch::nn::functional::cross_entropy(model.forward(x), y).backward();
    opt.step();
  }
}

void expect_identical(const models::ImageModel& a, const models::ImageModel& b) {
  auto sa = models::state_dict(a), sb = models::state_dict(b);
  ASSERT_EQ(sa.size(), sb.size());
  for (size_t i = 0; i < sa.size(); ++i) EXPECT_TRUE(torch::equal(sa[i].second, sb[i].second)) << sa[i].first;
}

}  // namespace

class OptimizerState : public ::testing::TestWithParam<std::string> {};

TEST_P(OptimizerState, RoundTripContinuesBitwise) {
  config::OptimConfig cfg;
  cfg.name = GetParam();
  cfg.nesterov = cfg.name == "sgd";
  torch::manual_seed(0);
  auto a = models::create_model({"resnet18", 2, 1});
  auto opt_a = engine::make_optimizer(cfg, *a);
  train_steps(*a, *opt_a, 2, 1);

  torch::manual_seed(99);  // a different init: everything must come from the saved state
  auto b = models::create_model({"resnet18", 2, 1});
  models::load_state_dict(*b, models::state_dict(*a));
  auto opt_b = engine::make_optimizer(cfg, *b);
  engine::load_optimizer_state(*opt_b, *b, engine::optimizer_state(*opt_a, *a));

  train_steps(*a, *opt_a, 2, 7);
  train_steps(*b, *opt_b, 2, 7);
  expect_identical(*a, *b);
}

INSTANTIATE_TEST_SUITE_P(Optimizers, OptimizerState, ::testing::Values("adamw", "sgd"));

TEST(OptimizerState, StateForAnotherModelIsRefusedByName) {
  config::OptimConfig cfg;
  auto a = models::create_model({"resnet18", 2, 1});
  auto opt = engine::make_optimizer(cfg, *a);
  models::NamedTensors bogus = {{"head.weight.exp_avg", torch::zeros({2})}};
  try {
    engine::load_optimizer_state(*opt, *a, bogus);
    FAIL();
  } catch (const UserError& e) {
    EXPECT_NE(std::string(e.what()).find("head.weight.exp_avg"), std::string::npos) << e.what();
  }
}
