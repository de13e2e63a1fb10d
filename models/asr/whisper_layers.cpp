#include "models/asr/whisper_layers.h"

#include <ATen/ops/scaled_dot_product_attention.h>
#include <torch/nn/functional/dropout.h>

#include <cmath>
#include <vector>

namespace medtrain::models::asr {
namespace {

namespace F = torch::nn::functional;

constexpr double kLayerNormEps = 1e-5;  // nn.LayerNorm's default, which HF's Whisper keeps

torch::nn::LayerNorm make_norm(int64_t d) {
  return torch::nn::LayerNorm(torch::nn::LayerNormOptions({d}).eps(kLayerNormEps));
}

torch::Tensor drop(const torch::Tensor& x, double p, bool training) {
  return F::dropout(x, F::DropoutFuncOptions().p(p).training(training));
}

}  // namespace

WhisperAttentionImpl::WhisperAttentionImpl(int64_t d_model, int64_t heads, double dropout)
    : heads_(heads), scaling_(std::pow(static_cast<double>(d_model / heads), -0.5)), dropout_(dropout) {
  q_proj_ = register_module("q_proj", torch::nn::Linear(d_model, d_model));
  k_proj_ = register_module("k_proj", torch::nn::Linear(torch::nn::LinearOptions(d_model, d_model).bias(false)));
  v_proj_ = register_module("v_proj", torch::nn::Linear(d_model, d_model));
  out_proj_ = register_module("out_proj", torch::nn::Linear(d_model, d_model));
}

torch::Tensor WhisperAttentionImpl::heads(const torch::Tensor& x) const {
  return x.view({x.size(0), x.size(1), heads_, x.size(2) / heads_}).transpose(1, 2);
}

torch::Tensor WhisperAttentionImpl::query(const torch::Tensor& x) { return heads(q_proj_(x) * scaling_); }

KeyValue WhisperAttentionImpl::key_value(const torch::Tensor& x) { return {heads(k_proj_(x)), heads(v_proj_(x))}; }

torch::Tensor WhisperAttentionImpl::attend(const torch::Tensor& q, const KeyValue& kv, const torch::Tensor& mask) {
  const auto context = at::scaled_dot_product_attention(
      q, kv.k, kv.v, mask.defined() ? std::optional<at::Tensor>(mask) : std::nullopt,
      is_training() ? dropout_ : 0.0, /*is_causal=*/false, /*scale=*/1.0);
  const auto merged = context.transpose(1, 2).reshape({q.size(0), q.size(2), q.size(1) * q.size(3)});
  return out_proj_(merged);
}

torch::Tensor feed_forward(torch::nn::Linear& fc1, torch::nn::Linear& fc2, const torch::Tensor& x,
                           double activation_dropout, bool training, bool fused) {
  return fc2(drop(models::linear_gelu(fc1, x, /*tanh_approx=*/false, fused), activation_dropout, training));
}

WhisperEncoderLayerImpl::WhisperEncoderLayerImpl(int64_t d_model, int64_t heads, int64_t ffn, double dropout,
                                                 double attention_dropout, double activation_dropout)
    : dropout_(dropout), activation_dropout_(activation_dropout) {
  self_attn_ = register_module("self_attn", WhisperAttention(d_model, heads, attention_dropout));
  self_attn_layer_norm_ = register_module("self_attn_layer_norm", make_norm(d_model));
  fc1_ = register_module("fc1", torch::nn::Linear(d_model, ffn));
  fc2_ = register_module("fc2", torch::nn::Linear(ffn, d_model));
  final_layer_norm_ = register_module("final_layer_norm", make_norm(d_model));
}

torch::Tensor WhisperEncoderLayerImpl::forward(const torch::Tensor& x) {
  const bool fused = fused_now();
  const auto h = models::layer_norm(self_attn_layer_norm_, x, fused);
  const auto attended = x + drop(self_attn_->attend(self_attn_->query(h), self_attn_->key_value(h), {}), dropout_,
                                 is_training());
  const auto ff = feed_forward(fc1_, fc2_, models::layer_norm(final_layer_norm_, attended, fused),
                               activation_dropout_, is_training(), fused);
  return attended + drop(ff, dropout_, is_training());
}

WhisperDecoderLayerImpl::WhisperDecoderLayerImpl(int64_t d_model, int64_t heads, int64_t ffn, double dropout,
                                                 double attention_dropout, double activation_dropout)
    : dropout_(dropout), activation_dropout_(activation_dropout) {
  self_attn_ = register_module("self_attn", WhisperAttention(d_model, heads, attention_dropout));
  self_attn_layer_norm_ = register_module("self_attn_layer_norm", make_norm(d_model));
  encoder_attn_ = register_module("encoder_attn", WhisperAttention(d_model, heads, attention_dropout));
  encoder_attn_layer_norm_ = register_module("encoder_attn_layer_norm", make_norm(d_model));
  fc1_ = register_module("fc1", torch::nn::Linear(d_model, ffn));
  fc2_ = register_module("fc2", torch::nn::Linear(ffn, d_model));
  final_layer_norm_ = register_module("final_layer_norm", make_norm(d_model));
}

torch::Tensor WhisperDecoderLayerImpl::forward(const torch::Tensor& x, const torch::Tensor& encoder,
                                               const torch::Tensor& causal, WhisperLayerCache* cache) {
  const bool training = is_training(), fused = fused_now();
  auto h = models::layer_norm(self_attn_layer_norm_, x, fused);
  KeyValue self = self_attn_->key_value(h);
  if (cache != nullptr) {
    if (cache->self.defined()) self = {torch::cat({cache->self.k, self.k}, 2), torch::cat({cache->self.v, self.v}, 2)};
    cache->self = self;
  }
  auto y = x + drop(self_attn_->attend(self_attn_->query(h), self, causal), dropout_, training);

  h = models::layer_norm(encoder_attn_layer_norm_, y, fused);
  KeyValue cross = cache != nullptr ? cache->cross : KeyValue{};
  if (!cross.defined()) cross = encoder_attn_->key_value(encoder);
  if (cache != nullptr) cache->cross = cross;
  y = y + drop(encoder_attn_->attend(encoder_attn_->query(h), cross, {}), dropout_, training);

  const auto ff =
      feed_forward(fc1_, fc2_, models::layer_norm(final_layer_norm_, y, fused), activation_dropout_, training, fused);
  return y + drop(ff, dropout_, training);
}

}  // namespace medtrain::models::asr
