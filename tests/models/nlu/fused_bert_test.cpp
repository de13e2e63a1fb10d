// BERT with the fused switch on (models/fused_module.h) against the same model
// with it off, on the CPU, where the fused kernels run their reference loops:
// same logits and same gradient for every parameter (fp64: 1e-10 relative;
// fp32: 1e-5; the key biases, whose true gradient is 0, only near 0), the same
// state_dict names, and proof from the autograd graph that the fused Functions
// really ran in training (1 + 2 per layer LayerNorms, 1 bias+GELU per layer)
// and not at all in eval mode, where export and inference run.
#include <gtest/gtest.h>
#include <torch/torch.h>

#include <algorithm>
#include <map>
#include <string>
#include <vector>

#include "kernels/device.h"
#include "models/nlu/bert.h"
#include "models/nlu/text_model.h"
#include "tests/common/autograd_nodes.h"

namespace medtrain::models::nlu {
namespace {

using medtrain::testing::count_autograd_nodes;

constexpr int64_t kLayers = 2;

BertConfig tiny_config(bool gelu_tanh) {
  BertConfig c;
  c.vocab_size = 50;
  c.hidden_size = 16;
  c.num_hidden_layers = kLayers;
  c.num_attention_heads = 2;
  c.intermediate_size = 40;
  c.max_position_embeddings = 16;
  c.layer_norm_eps = 1e-7;  // not LayerNorm's default: the fused path must take the config's
  c.hidden_dropout_prob = 0.0;  // training mode without randomness, so both paths can be compared
  c.attention_probs_dropout_prob = 0.0;
  c.gelu_tanh = gelu_tanh;
  return c;
}

std::shared_ptr<BertTaskModel> make_model(bool gelu_tanh, TextHead head, torch::Dtype dtype) {
  torch::manual_seed(3);
  auto model = std::make_shared<BertTaskModel>(BertModel(tiny_config(gelu_tanh), false), head, 3);
  {
    // Non-trivial LayerNorm affines (init is 1 and 0, which would hide a swapped gamma/beta).
    torch::NoGradGuard no_grad;
    for (auto& p : model->named_parameters()) {
      if (p.key().find("LayerNorm") != std::string::npos) p.value().add_(torch::randn_like(p.value()) * 0.3);
    }
  }
  model->to(dtype);
  model->train();
  return model;
}

torch::Tensor batch() {
  torch::manual_seed(5);
  auto ids = torch::randint(1, 50, {3, 9}, torch::kInt64);
  ids.index_put_({1, torch::indexing::Slice(6)}, 0);  // padding (pad_token_id 0)
  return ids;
}

struct Outcome {
  torch::Tensor logits;
  std::map<std::string, torch::Tensor> grads;
};

Outcome run_step(BertTaskModel& model, const torch::Device& device = torch::kCPU) {
  model.zero_grad();
  auto logits = model.forward(batch().to(device));
  (logits * torch::linspace(-1, 1, logits.numel(), logits.options()).view(logits.sizes())).sum().backward();
  Outcome r{logits.detach().cpu(), {}};
  for (const auto& p : model.named_parameters()) r.grads[p.key()] = p.value().grad().cpu();
  return r;
}

void expect_close(const torch::Tensor& got, const torch::Tensor& want, double rtol, const std::string& what) {
  ASSERT_TRUE(got.defined() && want.defined()) << what;
  const double scale = want.abs().max().item<double>();
  const double err = (got - want).abs().max().item<double>();
  EXPECT_LE(err, rtol * std::max(scale, 1e-30)) << what << ": max |diff| " << err << ", max |ref| " << scale;
}

struct Case {
  bool gelu_tanh;
  TextHead head;
  torch::Dtype dtype;
  double rtol;
};

class FusedBert : public ::testing::TestWithParam<Case> {};

void expect_same_step(const Outcome& got, const Outcome& want, double rtol) {
  expect_close(got.logits, want.logits, rtol, "logits");
  ASSERT_EQ(got.grads.size(), want.grads.size());
  for (const auto& [name, g] : want.grads) {
    const auto key_bias = name.find("key.bias");
    if (key_bias == std::string::npos) {
      expect_close(got.grads.at(name), g, rtol, "grad of " + name);
      continue;
    }
    // Softmax ignores a constant added to all of a query's scores, so the key
    // bias's true gradient is 0 and both paths hold rounding noise: compare
    // both with the scale of the value bias's gradient instead.
    const auto value_bias = std::string(name).replace(key_bias, 8, "value.bias");
    const double scale = want.grads.at(value_bias).abs().max().item<double>();
    EXPECT_LE(got.grads.at(name).abs().max().item<double>(), rtol * scale) << name;
    EXPECT_LE(g.abs().max().item<double>(), rtol * scale) << name;
  }
}

TEST_P(FusedBert, EqualsTheUnfusedModelInLogitsAndEveryGradient) {
  const Case c = GetParam();
  auto plain = make_model(c.gelu_tanh, c.head, c.dtype);
  auto fused = make_model(c.gelu_tanh, c.head, c.dtype);
  fused->use_fused_kernels(true);
  expect_same_step(run_step(*fused), run_step(*plain), c.rtol);
}

TEST_P(FusedBert, RunsTheFusedFunctionsInTrainingOnly) {
  const Case c = GetParam();
  auto model = make_model(c.gelu_tanh, c.head, c.dtype);
  EXPECT_EQ(count_autograd_nodes(model->forward(batch()), "LayerNormFn"), 0) << "the switch is off by default";

  model->use_fused_kernels(true);
  const auto logits = model->forward(batch());
  EXPECT_EQ(count_autograd_nodes(logits, "LayerNormFn"), 1 + 2 * kLayers);
  EXPECT_EQ(count_autograd_nodes(logits, "BiasGeluFn"), kLayers);

  model->eval();
  const auto eval_logits = model->forward(batch());
  EXPECT_EQ(count_autograd_nodes(eval_logits, "LayerNormFn"), 0);
  EXPECT_EQ(count_autograd_nodes(eval_logits, "BiasGeluFn"), 0);

  model->train();
  model->use_fused_kernels(false);
  EXPECT_EQ(count_autograd_nodes(model->forward(batch()), "BiasGeluFn"), 0);
}

INSTANTIATE_TEST_SUITE_P(GeluAndDtype, FusedBert,
                         ::testing::Values(Case{false, TextHead::kSequence, torch::kDouble, 1e-10},
                                           Case{true, TextHead::kToken, torch::kDouble, 1e-10},
                                           Case{false, TextHead::kToken, torch::kFloat, 1e-5},
                                           Case{true, TextHead::kSequence, torch::kFloat, 1e-5}));

// The CUDA kernels inside the model: a fused training step on the GPU gives
// the CPU's unfused logits and gradients (fp32, TF32 off).
TEST(FusedBertCuda, TrainingStepMatchesTheUnfusedCpuStep) {
  if (kernels::cuda_device_count() == 0) GTEST_SKIP() << "no CUDA device: " << kernels::describe_devices();
  at::globalContext().setAllowTF32CuBLAS(false);
  for (const bool gelu_tanh : {false, true}) {
    auto plain = make_model(gelu_tanh, TextHead::kSequence, torch::kFloat);
    auto fused = make_model(gelu_tanh, TextHead::kSequence, torch::kFloat);
    fused->to(torch::kCUDA);
    fused->use_fused_kernels(true);
    expect_same_step(run_step(*fused, torch::kCUDA), run_step(*plain), 1e-4);
  }
}

std::vector<std::string> state_keys(torch::nn::Module& m) {
  std::vector<std::string> keys;
  for (const auto& p : m.named_parameters()) keys.push_back(p.key());
  for (const auto& b : m.named_buffers()) keys.push_back(b.key());
  return keys;
}

TEST(FusedBertState, KeepsHuggingFacesParameterNames) {
  auto plain = make_model(false, TextHead::kSequence, torch::kFloat);
  auto fused = make_model(false, TextHead::kSequence, torch::kFloat);
  fused->use_fused_kernels(true);
  const auto keys = state_keys(*fused);
  EXPECT_EQ(keys, state_keys(*plain));
  for (const std::string name : {"bert.embeddings.LayerNorm.weight", "bert.encoder.layer.1.intermediate.dense.bias",
                                 "bert.encoder.layer.0.output.LayerNorm.bias",
                                 "bert.encoder.layer.0.attention.output.LayerNorm.weight"}) {
    EXPECT_NE(std::find(keys.begin(), keys.end(), name), keys.end()) << name;
  }
}

}  // namespace
}  // namespace medtrain::models::nlu
