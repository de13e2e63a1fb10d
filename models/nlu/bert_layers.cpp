#include "models/nlu/bert_layers.h"

#include <ATen/ops/scaled_dot_product_attention.h>

namespace medtrain::models::nlu {
namespace {

torch::nn::LayerNorm make_norm(int64_t size, double eps) {
  return torch::nn::LayerNorm(torch::nn::LayerNormOptions({size}).eps(eps));
}

}  // namespace

BertEmbeddingsImpl::BertEmbeddingsImpl(const BertConfig& c) {
  word_embeddings_ = register_module(
      "word_embeddings", torch::nn::Embedding(torch::nn::EmbeddingOptions(c.vocab_size, c.hidden_size)
                                                  .padding_idx(c.pad_token_id)));
  position_embeddings_ = register_module(
      "position_embeddings", torch::nn::Embedding(c.max_position_embeddings, c.hidden_size));
  token_type_embeddings_ = register_module("token_type_embeddings",
                                           torch::nn::Embedding(c.type_vocab_size, c.hidden_size));
  norm_ = register_module("LayerNorm", make_norm(c.hidden_size, c.layer_norm_eps));
  dropout_ = register_module("dropout", torch::nn::Dropout(c.hidden_dropout_prob));
}

torch::Tensor BertEmbeddingsImpl::forward(const torch::Tensor& input_ids, const torch::Tensor& token_type_ids) {
  const auto positions = torch::arange(input_ids.size(1), input_ids.options()).unsqueeze(0);
  auto x = word_embeddings_(input_ids) + token_type_embeddings_(token_type_ids) + position_embeddings_(positions);
  return dropout_(models::layer_norm(norm_, x, fused_now()));
}

BertSelfAttentionImpl::BertSelfAttentionImpl(const BertConfig& c)
    : heads_(c.num_attention_heads), dropout_p_(c.attention_probs_dropout_prob) {
  query_ = register_module("query", torch::nn::Linear(c.hidden_size, c.hidden_size));
  key_ = register_module("key", torch::nn::Linear(c.hidden_size, c.hidden_size));
  value_ = register_module("value", torch::nn::Linear(c.hidden_size, c.hidden_size));
}

torch::Tensor BertSelfAttentionImpl::heads(const torch::Tensor& x) const {
  return x.view({x.size(0), x.size(1), heads_, x.size(2) / heads_}).transpose(1, 2);
}

torch::Tensor BertSelfAttentionImpl::forward(const torch::Tensor& hidden, const torch::Tensor& key_mask) {
  const auto context = at::scaled_dot_product_attention(heads(query_(hidden)), heads(key_(hidden)),
                                                        heads(value_(hidden)), key_mask,
                                                        is_training() ? dropout_p_ : 0.0, /*is_causal=*/false);
  return context.transpose(1, 2).reshape({hidden.size(0), hidden.size(1), hidden.size(2)});
}

DenseResidualNormImpl::DenseResidualNormImpl(int64_t in, int64_t out, const BertConfig& c) {
  dense_ = register_module("dense", torch::nn::Linear(in, out));
  norm_ = register_module("LayerNorm", make_norm(out, c.layer_norm_eps));
  dropout_ = register_module("dropout", torch::nn::Dropout(c.hidden_dropout_prob));
}

torch::Tensor DenseResidualNormImpl::forward(const torch::Tensor& x, const torch::Tensor& residual) {
  return models::layer_norm(norm_, dropout_(dense_(x)) + residual, fused_now());
}

DenseOnlyImpl::DenseOnlyImpl(int64_t in, int64_t out) {
  dense_ = register_module("dense", torch::nn::Linear(in, out));
}

BertAttentionImpl::BertAttentionImpl(const BertConfig& c) {
  self_ = register_module("self", BertSelfAttention(c));
  output_ = register_module("output", DenseResidualNorm(c.hidden_size, c.hidden_size, c));
}

torch::Tensor BertAttentionImpl::forward(const torch::Tensor& hidden, const torch::Tensor& key_mask) {
  return output_(self_(hidden, key_mask), hidden);
}

BertLayerImpl::BertLayerImpl(const BertConfig& c) : gelu_tanh_(c.gelu_tanh) {
  attention_ = register_module("attention", BertAttention(c));
  intermediate_ = register_module("intermediate", DenseOnly(c.hidden_size, c.intermediate_size));
  output_ = register_module("output", DenseResidualNorm(c.intermediate_size, c.hidden_size, c));
}

torch::Tensor BertLayerImpl::forward(const torch::Tensor& hidden, const torch::Tensor& key_mask) {
  const auto attended = attention_(hidden, key_mask);
  const auto activated = models::linear_gelu(intermediate_->dense(), attended, gelu_tanh_, fused_now());
  return output_(activated, attended);
}

}  // namespace medtrain::models::nlu
