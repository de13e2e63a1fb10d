// Optimizer state survives a trip through its checkpoint form bit for bit:
// an optimizer rebuilt from the saved state takes exactly the same next steps.
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>
#include <torch/torch.h>

#include <cstdio>
#include <fstream>
#include <map>
#include <set>
#include <stdexcept>
#include <string>

#include "models/nlu/text_model.h"
#include "models/registry.h"
#include "models/state_dict.h"
#include "trainer/engine/optimizer_factory.h"
#include "tests/common/temp_dir.h"
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

// optim.no_decay: parameters whose names end with an entry get weight decay 0
// in a group of their own; the rest keep optim.weight_decay. One and three
// AdamW steps equal torch.optim.AdamW with the same two groups, run in Python
// (tests/trainer/engine/adamw_reference.py).
namespace {

struct SmallNet : torch::nn::Module {
  SmallNet() {
    emb = register_module("emb", torch::nn::Embedding(10, 6));
    dense = register_module("dense", torch::nn::Linear(6, 4));
    norm = register_module("LayerNorm", torch::nn::LayerNorm(torch::nn::LayerNormOptions({4})));
    head = register_module("head", torch::nn::Linear(4, 3));
    // ends with neither entry, though it contains "bias": decayed
    bias_scale = register_parameter("bias_scale", torch::randn({3}));
  }
  torch::nn::Embedding emb{nullptr};
  torch::nn::Linear dense{nullptr}, head{nullptr};
  torch::nn::LayerNorm norm{nullptr};
  torch::Tensor bias_scale;
};

std::map<const void*, std::string> names_of(const torch::nn::Module& m) {
  std::map<const void*, std::string> out;
  for (const auto& p : m.named_parameters()) out[p.value().unsafeGetTensorImpl()] = p.key();
  return out;
}

// group -> (weight decay, names of its parameters)
std::vector<std::pair<double, std::set<std::string>>> groups_of(torch::optim::Optimizer& opt,
                                                                const torch::nn::Module& m) {
  const auto names = names_of(m);
  std::vector<std::pair<double, std::set<std::string>>> out;
  for (auto& g : opt.param_groups()) {
    double wd = -1;
    if (auto* a = dynamic_cast<torch::optim::AdamWOptions*>(&g.options())) wd = a->weight_decay();
    if (auto* s = dynamic_cast<torch::optim::SGDOptions*>(&g.options())) wd = s->weight_decay();
    std::set<std::string> ps;
    for (const auto& p : g.params()) ps.insert(names.at(p.unsafeGetTensorImpl()));
    out.emplace_back(wd, ps);
  }
  return out;
}

std::vector<double> flat(const torch::Tensor& t) {
  const auto c = t.detach().to(torch::kFloat64).contiguous().reshape({-1});
  return std::vector<double>(c.data_ptr<double>(), c.data_ptr<double>() + c.numel());
}

nlohmann::json run_reference(const nlohmann::json& c) {
  medtrain::testing::TempDir dir("medtrain_adamw");
  std::ofstream(dir.path() / "case.json") << c.dump();
  const std::string cmd = std::string(MEDTRAIN_PYTHON) + " " + MEDTRAIN_SOURCE_DIR +
                          "/tests/trainer/engine/adamw_reference.py " + dir.str();
  FILE* pipe = popen(cmd.c_str(), "r");
  std::string text;
  char buf[4096];
  while (pipe && fgets(buf, sizeof(buf), pipe)) text += buf;
  if (!pipe || pclose(pipe) != 0) throw std::runtime_error("reference failed: " + cmd);
  return nlohmann::json::parse(text);
}

const std::set<std::string> kExempt{"dense.bias", "LayerNorm.weight", "LayerNorm.bias", "head.bias"};
const std::set<std::string> kDecayed{"emb.weight", "dense.weight", "head.weight", "bias_scale"};

}  // namespace

TEST(OptimizerNoDecay, BiasAndLayerNormWeightsGetNoWeightDecay) {
  for (const std::string name : {"adamw", "sgd"}) {
    config::OptimConfig cfg;
    cfg.name = name;
    cfg.weight_decay = 0.05;
    cfg.no_decay = {"bias", "LayerNorm.weight"};
    SmallNet net;
    auto opt = engine::make_optimizer(cfg, net);
    const auto groups = groups_of(*opt, net);
    ASSERT_EQ(groups.size(), 2u) << name;
    EXPECT_DOUBLE_EQ(groups[0].first, 0.05) << name;
    EXPECT_EQ(groups[0].second, kDecayed) << name;
    EXPECT_DOUBLE_EQ(groups[1].first, 0.0) << name;
    EXPECT_EQ(groups[1].second, kExempt) << name;
    engine::set_learning_rate(*opt, 0.125);  // reaches both groups
    for (auto& g : opt->param_groups()) EXPECT_DOUBLE_EQ(g.options().get_lr(), 0.125) << name;
  }
  // Without no_decay: one group, all decayed (as before optim.no_decay).
  config::OptimConfig cfg;
  cfg.weight_decay = 0.05;
  SmallNet net;
  auto opt = engine::make_optimizer(cfg, net);
  const auto groups = groups_of(*opt, net);
  ASSERT_EQ(groups.size(), 1u);
  EXPECT_DOUBLE_EQ(groups[0].first, 0.05);
  EXPECT_EQ(groups[0].second.size(), kDecayed.size() + kExempt.size());
}

TEST(OptimizerNoDecay, BertTaskModelSplitsAsTransformersRecipe) {
  medtrain::testing::TempDir dir("medtrain_nodecay_bert");
  dir.write("config.json", R"({"model_type": "bert", "vocab_size": 40, "hidden_size": 8, "num_hidden_layers": 2,
    "num_attention_heads": 2, "intermediate_size": 16, "max_position_embeddings": 16, "type_vocab_size": 2})");
  auto model = models::nlu::create_text_model(dir.path(), models::nlu::TextHead::kToken, 3, /*weights=*/false);
  config::OptimConfig cfg;
  cfg.no_decay = {"bias", "LayerNorm.weight"};
  auto opt = engine::make_optimizer(cfg, *model);
  const auto groups = groups_of(*opt, *model);
  ASSERT_EQ(groups.size(), 2u);
  size_t total = 0;
  for (const auto& p : model->named_parameters()) {
    ++total;
    const std::string& n = p.key();
    // transformers' Trainer: no decay for biases and LayerNorm weights
    const bool exempt = n.find("bias") != std::string::npos || n.find("LayerNorm.weight") != std::string::npos;
    EXPECT_EQ(groups[exempt ? 1 : 0].second.count(n), 1u) << n;
  }
  EXPECT_EQ(groups[0].second.size() + groups[1].second.size(), total);
  EXPECT_TRUE(groups[1].second.count("bert.embeddings.LayerNorm.weight"));
  EXPECT_TRUE(groups[1].second.count("classifier.bias"));
  EXPECT_TRUE(groups[0].second.count("classifier.weight"));
  EXPECT_TRUE(groups[0].second.count("bert.encoder.layer.1.attention.self.query.weight"));
}

TEST(OptimizerNoDecay, AdamWStepsMatchTorchAdamWWithTwoGroups) {
  for (int steps : {1, 3}) {
    torch::manual_seed(21 + steps);
    config::OptimConfig cfg;
    cfg.lr = 0.05;  // large enough that decay shows: lr * wd * p ~ 1e-2 * p
    cfg.weight_decay = 0.2;
    cfg.beta1 = 0.8;
    cfg.beta2 = 0.95;
    cfg.eps = 1e-6;
    cfg.no_decay = {"bias", "LayerNorm.weight"};
    SmallNet net;
    {
      torch::NoGradGuard g;
      for (auto& p : net.parameters()) p.normal_();  // LayerNorm weight 1 and bias 0 would hide mistakes
    }
    auto opt = engine::make_optimizer(cfg, net, /*fused=*/false);
    nlohmann::json c{{"lr", cfg.lr},         {"betas", {cfg.beta1, cfg.beta2}},
                     {"eps", cfg.eps},       {"weight_decay", cfg.weight_decay},
                     {"steps", steps},       {"params", nlohmann::json::object()},
                     {"grads", nlohmann::json::array()}};
    for (const auto& p : net.named_parameters()) {
      c["params"][p.key()] = {{"shape", p.value().sizes().vec()},
                              {"value", flat(p.value())},
                              {"decay", kDecayed.count(p.key()) == 1}};
    }
    for (int s = 0; s < steps; ++s) {
      nlohmann::json grads = nlohmann::json::object();
      for (auto& p : net.named_parameters()) {
        p.value().mutable_grad() = torch::randn_like(p.value());
        grads[p.key()] = flat(p.value().grad());
      }
      c["grads"].push_back(grads);
      opt->step();
    }
    const auto ref = run_reference(c);
    for (const auto& p : net.named_parameters()) {
      const auto ours = flat(p.value());
      const auto theirs = ref.at(p.key()).get<std::vector<double>>();
      ASSERT_EQ(ours.size(), theirs.size()) << p.key();
      double worst = 0;
      for (size_t i = 0; i < ours.size(); ++i) worst = std::max(worst, std::abs(ours[i] - theirs[i]));
      EXPECT_LE(worst, 2e-6) << p.key() << " after " << steps << " steps";
      // The reference can tell the groups apart: the decay a parameter must
      // not have (or must have) is well above the tolerance.
      const double decay_effect = cfg.lr * cfg.weight_decay * p.value().abs().max().item<double>();
      EXPECT_GT(decay_effect, 1e-4) << p.key();
    }
  }
}

TEST(OptimizerNoDecay, TwoGroupStateRoundTripContinuesBitwise) {
  config::OptimConfig cfg;
  cfg.weight_decay = 0.1;
  cfg.no_decay = {"bias", "LayerNorm.weight"};
  torch::manual_seed(4);
  SmallNet a;
  auto opt_a = engine::make_optimizer(cfg, a);
  auto train = [](SmallNet& net, torch::optim::Optimizer& opt, int seed) {
    torch::manual_seed(seed);
    for (int i = 0; i < 2; ++i) {
      opt.zero_grad();
      auto x = net.head(net.norm(net.dense(net.emb(torch::randint(0, 10, {5})))));
      (x * net.bias_scale).pow(2).sum().backward();
      opt.step();
    }
  };
  train(a, *opt_a, 1);
  torch::manual_seed(77);
  SmallNet b;
  {
    torch::NoGradGuard g;
    auto pa = a.named_parameters(), pb = b.named_parameters();
    for (const auto& p : pa) pb[p.key()].copy_(p.value());
  }
  auto opt_b = engine::make_optimizer(cfg, b);
  engine::load_optimizer_state(*opt_b, b, engine::optimizer_state(*opt_a, a));
  train(a, *opt_a, 5);
  train(b, *opt_b, 5);
  auto pa = a.named_parameters(), pb = b.named_parameters();
  for (const auto& p : pa) EXPECT_TRUE(torch::equal(p.value(), pb[p.key()])) << p.key();
}
