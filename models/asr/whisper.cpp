#include "models/asr/whisper.h"

#include <fmt/format.h>
#include <fmt/ranges.h>
#include <torch/nn/functional/activation.h>
#include <torch/nn/functional/dropout.h>
#include <torch/nn/functional/linear.h>

#include <cmath>
#include <string>
#include <vector>

#include "models/model_error.h"

namespace medtrain::models::asr {
namespace {

namespace F = torch::nn::functional;

std::string shape_of(const torch::Tensor& t) {
  std::vector<int64_t> s(t.sizes().begin(), t.sizes().end());
  return fmt::format("[{}]", fmt::join(s, ", "));
}

torch::nn::LayerNorm make_norm(int64_t d) {
  return torch::nn::LayerNorm(torch::nn::LayerNormOptions({d}).eps(1e-5));
}

torch::nn::Conv1d make_conv(int64_t in, int64_t out, int64_t stride) {
  return torch::nn::Conv1d(torch::nn::Conv1dOptions(in, out, 3).stride(stride).padding(1));
}

// Query i (absolute position past + i) sees keys 0 ... past + i.
torch::Tensor causal_mask(int64_t past, int64_t steps, const torch::Device& device) {
  const auto opts = torch::TensorOptions().dtype(torch::kLong).device(device);
  return torch::arange(past + steps, opts).unsqueeze(0) <= (torch::arange(steps, opts) + past).unsqueeze(1);
}

}  // namespace

torch::Tensor whisper_sinusoids(int64_t length, int64_t channels) {
  const int64_t half = channels / 2;
  const double step = std::log(10000.0) / static_cast<double>(half - 1);
  const auto inv = torch::exp(-step * torch::arange(half, torch::kFloat));
  const auto t = torch::arange(length, torch::kFloat).view({-1, 1}) * inv.view({1, -1});
  return torch::cat({t.sin(), t.cos()}, 1);
}

WhisperEncoderImpl::WhisperEncoderImpl(const WhisperConfig& c) : config_(c) {
  conv1_ = register_module("conv1", make_conv(c.num_mel_bins, c.d_model, 1));
  conv2_ = register_module("conv2", make_conv(c.d_model, c.d_model, 2));
  embed_positions_ = register_module("embed_positions", torch::nn::Embedding(c.max_source_positions, c.d_model));
  {
    torch::NoGradGuard no_grad;
    embed_positions_->weight.copy_(whisper_sinusoids(c.max_source_positions, c.d_model));
  }
  embed_positions_->weight.set_requires_grad(false);  // HF freezes it too
  torch::nn::ModuleList layers;
  for (int64_t i = 0; i < c.encoder_layers; ++i) {
    layers_.emplace_back(c.d_model, c.encoder_attention_heads, c.encoder_ffn_dim, c.dropout, c.attention_dropout,
                         c.activation_dropout);
    layers->push_back(layers_.back());
  }
  register_module("layers", layers);
  layer_norm_ = register_module("layer_norm", make_norm(c.d_model));
}

torch::Tensor WhisperEncoderImpl::forward(const torch::Tensor& features) {
  if (features.dim() != 3 || features.size(1) != config_.num_mel_bins || features.size(2) != config_.input_frames() ||
      !features.is_floating_point()) {
    throw ModelError(fmt::format("Whisper encoder: expected log-mel features [N, {}, {}] (float), got {} {}",
                                 config_.num_mel_bins, config_.input_frames(), shape_of(features),
                                 std::string(c10::toString(features.scalar_type()))));
  }
  auto x = F::gelu(conv2_(F::gelu(conv1_(features.to(conv1_->weight.dtype())))));
  x = x.permute({0, 2, 1}) + embed_positions_->weight;
  x = F::dropout(x, F::DropoutFuncOptions().p(config_.dropout).training(is_training()));
  for (auto& layer : layers_) x = layer(x);
  return models::layer_norm(layer_norm_, x, fused_now());
}

WhisperDecoderImpl::WhisperDecoderImpl(const WhisperConfig& c) : config_(c) {
  embed_tokens_ = register_module("embed_tokens", torch::nn::Embedding(c.vocab_size, c.d_model));
  embed_positions_ = register_module("embed_positions", torch::nn::Embedding(c.max_target_positions, c.d_model));
  torch::nn::ModuleList layers;
  for (int64_t i = 0; i < c.decoder_layers; ++i) {
    layers_.emplace_back(c.d_model, c.decoder_attention_heads, c.decoder_ffn_dim, c.dropout, c.attention_dropout,
                         c.activation_dropout);
    layers->push_back(layers_.back());
  }
  register_module("layers", layers);
  layer_norm_ = register_module("layer_norm", make_norm(c.d_model));
}

void WhisperDecoderImpl::check(const torch::Tensor& tokens, const torch::Tensor& encoder, int64_t past) const {
  if (tokens.dim() != 2 || tokens.scalar_type() != torch::kLong || tokens.size(1) == 0) {
    throw ModelError("Whisper decoder: expected token ids [N, T] (int64, T >= 1), got " + shape_of(tokens) + " " +
                     std::string(c10::toString(tokens.scalar_type())));
  }
  if (encoder.dim() != 3 || encoder.size(0) != tokens.size(0) || encoder.size(2) != config_.d_model) {
    throw ModelError(fmt::format("Whisper decoder: expected encoder states [{}, S, {}], got {}", tokens.size(0),
                                 config_.d_model, shape_of(encoder)));
  }
  if (past + tokens.size(1) > config_.max_target_positions) {
    throw ModelError(fmt::format("Whisper decoder: {} tokens exceed max_target_positions {}", past + tokens.size(1),
                                 config_.max_target_positions));
  }
  const auto lo = tokens.min().item<int64_t>(), hi = tokens.max().item<int64_t>();
  if (lo < 0 || hi >= config_.vocab_size) {
    throw ModelError(fmt::format("Whisper decoder: token id {} is outside the vocabulary [0, {})",
                                 lo < 0 ? lo : hi, config_.vocab_size));
  }
}

torch::Tensor WhisperDecoderImpl::forward(const torch::Tensor& tokens, const torch::Tensor& encoder,
                                          WhisperKvCache* cache) {
  const int64_t past = cache != nullptr ? cache->length() : 0;
  check(tokens, encoder, past);
  if (cache != nullptr && cache->layers.empty()) cache->layers.resize(layers_.size());
  const int64_t steps = tokens.size(1);
  auto x = embed_tokens_(tokens);
  if (config_.scale_embedding) x = x * std::sqrt(static_cast<double>(config_.d_model));
  x = x + embed_positions_->weight.slice(0, past, past + steps);
  x = F::dropout(x, F::DropoutFuncOptions().p(config_.dropout).training(is_training()));
  const auto mask = causal_mask(past, steps, tokens.device());
  const auto states = encoder.to(x.dtype());
  for (size_t i = 0; i < layers_.size(); ++i) {
    x = layers_[i](x, states, mask, cache != nullptr ? &cache->layers[i] : nullptr);
  }
  return models::layer_norm(layer_norm_, x, fused_now());
}

WhisperSeq2SeqImpl::WhisperSeq2SeqImpl(const WhisperConfig& c) {
  encoder = register_module("encoder", WhisperEncoder(c));
  decoder = register_module("decoder", WhisperDecoder(c));
}

WhisperImpl::WhisperImpl(const WhisperConfig& c) : config_(c) {
  model_ = register_module("model", WhisperSeq2Seq(c));
}

torch::Tensor WhisperImpl::encode(const torch::Tensor& features) { return model_->encoder(features); }

torch::Tensor WhisperImpl::decode(const torch::Tensor& tokens, const torch::Tensor& encoder, WhisperKvCache* cache) {
  const auto hidden = model_->decoder(tokens, encoder, cache);
  return F::linear(hidden, model_->decoder->token_embedding());
}

}  // namespace medtrain::models::asr
