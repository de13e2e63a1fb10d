#pragma once
// The blocks of Whisper, registered under Hugging Face's
// WhisperForConditionalGeneration names so that public weights load unchanged:
//   {encoder,decoder}.layers.N.self_attn.{q,k,v,out}_proj   (k_proj has no bias)
//   {encoder,decoder}.layers.N.{self_attn,final}_layer_norm, .fc1, .fc2
//   decoder.layers.N.encoder_attn.{q,k,v,out}_proj, .encoder_attn_layer_norm
// Pre-LN blocks (x + f(LayerNorm(x))), exact GELU, LayerNorm eps 1e-5. With
// the fused switch on (FusedModule), the LayerNorms and fc1's bias+GELU run in
// medtrain's fused kernels in training (Note [Fused kernels in training only]).
// Attention goes through at::scaled_dot_product_attention with q scaled by
// head_dim^-0.5 beforehand, as HF does (its order of rounding, scale 1 inside).
#include <torch/nn/module.h>
#include <torch/nn/modules/linear.h>
#include <torch/nn/modules/normalization.h>

#include <utility>

#include "models/fused_module.h"

namespace medtrain::models::asr {

// [B, heads, T, head_dim] keys and values of one attention.
struct KeyValue {
  torch::Tensor k, v;
  bool defined() const { return k.defined(); }
};

class WhisperAttentionImpl : public torch::nn::Module {
 public:
  WhisperAttentionImpl(int64_t d_model, int64_t heads, double dropout);
  // x [B, T, D] -> q [B, heads, T, head_dim], already scaled.
  torch::Tensor query(const torch::Tensor& x);
  // x [B, S, D] -> keys and values [B, heads, S, head_dim].
  KeyValue key_value(const torch::Tensor& x);
  // Attention of q over kv (mask: bool [T, S], true = attend; undefined =
  // all), then out_proj: [B, T, D].
  torch::Tensor attend(const torch::Tensor& q, const KeyValue& kv, const torch::Tensor& mask);

 private:
  torch::Tensor heads(const torch::Tensor& x) const;
  int64_t heads_;
  double scaling_, dropout_;
  torch::nn::Linear q_proj_{nullptr}, k_proj_{nullptr}, v_proj_{nullptr}, out_proj_{nullptr};
};
TORCH_MODULE(WhisperAttention);

// fc1 -> GELU -> fc2, the feed-forward half of both layer kinds (`fused`:
// fc1's bias and the GELU in one kernel, see models::linear_gelu).
torch::Tensor feed_forward(torch::nn::Linear& fc1, torch::nn::Linear& fc2, const torch::Tensor& x,
                           double activation_dropout, bool training, bool fused);

class WhisperEncoderLayerImpl : public FusedModule {
 public:
  WhisperEncoderLayerImpl(int64_t d_model, int64_t heads, int64_t ffn, double dropout, double attention_dropout,
                          double activation_dropout);
  torch::Tensor forward(const torch::Tensor& x);

 private:
  double dropout_, activation_dropout_;
  WhisperAttention self_attn_{nullptr};
  torch::nn::LayerNorm self_attn_layer_norm_{nullptr}, final_layer_norm_{nullptr};
  torch::nn::Linear fc1_{nullptr}, fc2_{nullptr};
};
TORCH_MODULE(WhisperEncoderLayer);

// One decoder layer's cache: self-attention K/V of every token so far, and
// cross-attention K/V of the encoder output (computed once).
struct WhisperLayerCache {
  KeyValue self, cross;
};

class WhisperDecoderLayerImpl : public FusedModule {
 public:
  WhisperDecoderLayerImpl(int64_t d_model, int64_t heads, int64_t ffn, double dropout, double attention_dropout,
                          double activation_dropout);
  // x [B, T, D]; encoder [B, S, D]; causal: bool [T, past + T]. With a cache,
  // this step's K/V are appended and the cross K/V reused once computed.
  torch::Tensor forward(const torch::Tensor& x, const torch::Tensor& encoder, const torch::Tensor& causal,
                        WhisperLayerCache* cache);

 private:
  double dropout_, activation_dropout_;
  WhisperAttention self_attn_{nullptr}, encoder_attn_{nullptr};
  torch::nn::LayerNorm self_attn_layer_norm_{nullptr}, encoder_attn_layer_norm_{nullptr},
      final_layer_norm_{nullptr};
  torch::nn::Linear fc1_{nullptr}, fc2_{nullptr};
};
TORCH_MODULE(WhisperDecoderLayer);

}  // namespace medtrain::models::asr
