// Whisper with the fused switch on (models/fused_module.h) against the same
// model with it off, on the CPU, where the fused kernels run their reference
// loops: same teacher-forced logits and same gradient for every parameter
// (fp64: 1e-10 relative; fp32: 1e-5), the same state_dict names, and proof
// from the autograd graph that the fused Functions ran in training (encoder:
// 2 LayerNorms per layer + the final one; decoder: 3 per layer + 1; one
// fc1 bias+GELU per layer) and not in eval mode, where decoding and export run.
#include <gtest/gtest.h>
#include <torch/torch.h>

#include <algorithm>
#include <map>
#include <string>
#include <vector>

#include "kernels/device.h"
#include "models/asr/whisper.h"
#include "models/asr/whisper_task_model.h"
#include "tests/common/autograd_nodes.h"

namespace medtrain::models::asr {
namespace {

using medtrain::testing::count_autograd_nodes;

WhisperConfig tiny_config() {
  WhisperConfig c;
  c.vocab_size = 40;
  c.num_mel_bins = 8;
  c.d_model = 16;
  c.encoder_layers = 2;
  c.decoder_layers = 3;
  c.encoder_attention_heads = c.decoder_attention_heads = 2;
  c.encoder_ffn_dim = 24;
  c.decoder_ffn_dim = 36;
  c.max_source_positions = 6;
  c.max_target_positions = 10;
  return c;  // dropout 0: training mode without randomness, so both paths can be compared
}

std::shared_ptr<WhisperTaskModel> make_model(torch::Dtype dtype) {
  torch::manual_seed(7);
  auto model = std::make_shared<WhisperTaskModel>(Whisper(tiny_config()));
  {
    // Non-trivial LayerNorm affines (init is 1 and 0, which would hide a swapped gamma/beta).
    torch::NoGradGuard no_grad;
    for (auto& p : model->named_parameters()) {
      if (p.key().find("layer_norm") != std::string::npos) p.value().add_(torch::randn_like(p.value()) * 0.3);
    }
  }
  model->to(dtype);
  model->train();
  return model;
}

torch::Tensor logits(WhisperTaskModel& model) {
  torch::manual_seed(9);
  const auto options = model.parameters()[0].options();
  const auto features = torch::randn({2, 8, 12}, options.device(torch::kCPU)).to(options.device());
  const auto tokens = torch::randint(0, 40, {2, 5}, torch::kInt64).to(options.device());
  return model.logits(features, tokens);
}

std::map<std::string, torch::Tensor> gradients(WhisperTaskModel& model, torch::Tensor* out) {
  model.zero_grad();
  auto y = logits(model);
  (y * torch::linspace(-1, 1, y.numel(), y.options()).view(y.sizes())).sum().backward();
  *out = y.detach().cpu();
  std::map<std::string, torch::Tensor> grads;
  for (const auto& p : model.named_parameters()) {
    if (p.value().requires_grad()) grads[p.key()] = p.value().grad().cpu();
  }
  return grads;
}

void expect_close(const torch::Tensor& got, const torch::Tensor& want, double rtol, const std::string& what) {
  ASSERT_TRUE(got.defined() && want.defined()) << what;
  const double scale = want.abs().max().item<double>();
  const double err = (got - want).abs().max().item<double>();
  EXPECT_LE(err, rtol * std::max(scale, 1e-30)) << what << ": max |diff| " << err << ", max |ref| " << scale;
}

struct Case {
  torch::Dtype dtype;
  double rtol;
};

class FusedWhisper : public ::testing::TestWithParam<Case> {};

TEST_P(FusedWhisper, EqualsTheUnfusedModelInLogitsAndEveryGradient) {
  const Case c = GetParam();
  auto plain = make_model(c.dtype);
  auto fused = make_model(c.dtype);
  fused->use_fused_kernels(true);
  torch::Tensor want_logits, got_logits;
  const auto want = gradients(*plain, &want_logits);
  const auto got = gradients(*fused, &got_logits);
  expect_close(got_logits, want_logits, c.rtol, "logits");
  ASSERT_EQ(got.size(), want.size());
  EXPECT_GT(want.size(), 40u);
  for (const auto& [name, g] : want) expect_close(got.at(name), g, c.rtol, "grad of " + name);
}

INSTANTIATE_TEST_SUITE_P(Dtype, FusedWhisper, ::testing::Values(Case{torch::kDouble, 1e-10}, Case{torch::kFloat, 1e-5}));

// The CUDA kernels inside the model: a fused training step on the GPU gives
// the CPU's unfused logits and gradients (fp32, TF32 off).
TEST(FusedWhisperCuda, TrainingStepMatchesTheUnfusedCpuStep) {
  if (kernels::cuda_device_count() == 0) GTEST_SKIP() << "no CUDA device: " << kernels::describe_devices();
  at::globalContext().setAllowTF32CuBLAS(false);
  auto plain = make_model(torch::kFloat);
  auto fused = make_model(torch::kFloat);
  fused->to(torch::kCUDA);
  fused->use_fused_kernels(true);
  torch::Tensor want_logits, got_logits;
  const auto want = gradients(*plain, &want_logits);
  const auto got = gradients(*fused, &got_logits);
  expect_close(got_logits, want_logits, 1e-4, "logits");
  for (const auto& [name, g] : want) expect_close(got.at(name), g, 1e-4, "grad of " + name);
}

TEST(FusedWhisperPath, RunsTheFusedFunctionsInTrainingOnly) {
  auto model = make_model(torch::kDouble);
  EXPECT_EQ(count_autograd_nodes(logits(*model), "LayerNormFn"), 0) << "the switch is off by default";

  model->use_fused_kernels(true);
  const auto y = logits(*model);
  EXPECT_EQ(count_autograd_nodes(y, "LayerNormFn"), (2 * 2 + 1) + (3 * 3 + 1));
  EXPECT_EQ(count_autograd_nodes(y, "BiasGeluFn"), 2 + 3);

  model->eval();
  const auto eval_y = logits(*model);
  EXPECT_EQ(count_autograd_nodes(eval_y, "LayerNormFn"), 0);
  EXPECT_EQ(count_autograd_nodes(eval_y, "BiasGeluFn"), 0);
}

TEST(FusedWhisperPath, FrozenEncoderStillTrainsTheDecoderFused) {
  auto model = make_model(torch::kDouble);
  model->freeze_encoder();
  model->use_fused_kernels(true);
  const auto y = logits(*model);
  EXPECT_EQ(count_autograd_nodes(y, "LayerNormFn"), 3 * 3 + 1);  // the encoder ran without autograd
  EXPECT_EQ(count_autograd_nodes(y, "BiasGeluFn"), 3);
}

std::vector<std::string> state_keys(torch::nn::Module& m) {
  std::vector<std::string> keys;
  for (const auto& p : m.named_parameters()) keys.push_back(p.key());
  for (const auto& b : m.named_buffers()) keys.push_back(b.key());
  return keys;
}

TEST(FusedWhisperPath, KeepsHuggingFacesParameterNames) {
  auto plain = make_model(torch::kFloat);
  auto fused = make_model(torch::kFloat);
  fused->use_fused_kernels(true);
  const auto keys = state_keys(*fused);
  EXPECT_EQ(keys, state_keys(*plain));
  for (const std::string name : {"model.encoder.layers.0.fc1.bias", "model.decoder.layers.2.final_layer_norm.weight",
                                 "model.decoder.layers.0.encoder_attn_layer_norm.bias",
                                 "model.encoder.layer_norm.weight"}) {
    EXPECT_NE(std::find(keys.begin(), keys.end(), name), keys.end()) << name;
  }
}

}  // namespace
}  // namespace medtrain::models::asr
