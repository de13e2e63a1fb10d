#pragma once
// The building blocks of a BERT encoder, registered under Hugging Face's
// BertModel names so that public weights load unchanged:
//   embeddings.{word,position,token_type}_embeddings, embeddings.LayerNorm
//   encoder.layer.N.attention.self.{query,key,value}
//   encoder.layer.N.attention.output.{dense,LayerNorm}
//   encoder.layer.N.intermediate.dense
//   encoder.layer.N.output.{dense,LayerNorm}
// Attention goes through at::scaled_dot_product_attention (flash / memory-
// efficient kernels on the GPU). With the fused switch on (FusedModule, set by
// the trainer on CUDA with kernels.fused), the LayerNorms and the intermediate
// bias+GELU run in medtrain's fused kernels in training; otherwise, and always
// in eval mode, in LibTorch's ops (Note [Fused kernels in training only]).
#include <torch/nn/module.h>
#include <torch/nn/modules/container/modulelist.h>
#include <torch/nn/modules/dropout.h>
#include <torch/nn/modules/embedding.h>
#include <torch/nn/modules/linear.h>
#include <torch/nn/modules/normalization.h>

#include "models/fused_module.h"
#include "models/nlu/bert_config.h"

namespace medtrain::models::nlu {

// Word + position + token-type embeddings, LayerNorm, dropout.
// input_ids, token_type_ids: [N, L] int64 -> [N, L, hidden].
class BertEmbeddingsImpl : public FusedModule {
 public:
  explicit BertEmbeddingsImpl(const BertConfig& c);
  torch::Tensor forward(const torch::Tensor& input_ids, const torch::Tensor& token_type_ids);

 private:
  torch::nn::Embedding word_embeddings_{nullptr}, position_embeddings_{nullptr}, token_type_embeddings_{nullptr};
  torch::nn::LayerNorm norm_{nullptr};
  torch::nn::Dropout dropout_{nullptr};
};
TORCH_MODULE(BertEmbeddings);

// Multi-head self-attention (the `attention.self` of HF): hidden [N, L, H] and a
// key mask [N, 1, 1, L] (bool, true = attend) -> context [N, L, H].
class BertSelfAttentionImpl : public torch::nn::Module {
 public:
  explicit BertSelfAttentionImpl(const BertConfig& c);
  torch::Tensor forward(const torch::Tensor& hidden, const torch::Tensor& key_mask);

 private:
  torch::Tensor heads(const torch::Tensor& x) const;  // [N, L, H] -> [N, heads, L, H / heads]
  int64_t heads_;
  double dropout_p_;
  torch::nn::Linear query_{nullptr}, key_{nullptr}, value_{nullptr};
};
TORCH_MODULE(BertSelfAttention);

// dense -> dropout -> LayerNorm(. + residual): HF's BertSelfOutput and BertOutput.
class DenseResidualNormImpl : public FusedModule {
 public:
  DenseResidualNormImpl(int64_t in, int64_t out, const BertConfig& c);
  torch::Tensor forward(const torch::Tensor& x, const torch::Tensor& residual);

 private:
  torch::nn::Linear dense_{nullptr};
  torch::nn::LayerNorm norm_{nullptr};
  torch::nn::Dropout dropout_{nullptr};
};
TORCH_MODULE(DenseResidualNorm);

// One `dense` Linear: HF's BertIntermediate (then GELU) and BertPooler (then tanh).
class DenseOnlyImpl : public torch::nn::Module {
 public:
  DenseOnlyImpl(int64_t in, int64_t out);
  torch::nn::Linear& dense() { return dense_; }

 private:
  torch::nn::Linear dense_{nullptr};
};
TORCH_MODULE(DenseOnly);

// `attention` = {self, output}.
class BertAttentionImpl : public torch::nn::Module {
 public:
  explicit BertAttentionImpl(const BertConfig& c);
  torch::Tensor forward(const torch::Tensor& hidden, const torch::Tensor& key_mask);

 private:
  BertSelfAttention self_{nullptr};
  DenseResidualNorm output_{nullptr};
};
TORCH_MODULE(BertAttention);

// One encoder layer: attention, intermediate (dense + GELU), output.
class BertLayerImpl : public FusedModule {
 public:
  explicit BertLayerImpl(const BertConfig& c);
  torch::Tensor forward(const torch::Tensor& hidden, const torch::Tensor& key_mask);

 private:
  BertAttention attention_{nullptr};
  DenseOnly intermediate_{nullptr};
  DenseResidualNorm output_{nullptr};
  bool gelu_tanh_;
};
TORCH_MODULE(BertLayer);

}  // namespace medtrain::models::nlu
