#pragma once
// A BERT-family encoder (Hugging Face BertModel: parameter names, math and
// defaults), built from a BertConfig; see bert_layers.h for the blocks.
//
// forward: input_ids, attention_mask (1 = token, 0 = padding) and
// token_type_ids, all [N, L] int64 on the model's device, L <=
// max_position_embeddings -> last hidden state [N, L, hidden] (float).
// The pooler (tanh(dense([CLS]))) exists when the weights have one.
#include <torch/nn/module.h>
#include <torch/nn/modules/container/modulelist.h>

#include "models/nlu/bert_config.h"
#include "models/nlu/bert_layers.h"

namespace medtrain::models::nlu {

class BertEncoderImpl : public torch::nn::Module {
 public:
  explicit BertEncoderImpl(const BertConfig& c);
  torch::Tensor forward(torch::Tensor hidden, const torch::Tensor& key_mask);

 private:
  std::vector<BertLayer> layers_;
};
TORCH_MODULE(BertEncoder);

class BertModelImpl : public torch::nn::Module {
 public:
  BertModelImpl(const BertConfig& c, bool with_pooler);
  torch::Tensor forward(const torch::Tensor& input_ids, const torch::Tensor& attention_mask,
                        const torch::Tensor& token_type_ids);
  // tanh(dense(hidden[:, 0])): [N, hidden]. ModelError without a pooler.
  torch::Tensor pool(const torch::Tensor& last_hidden);
  const BertConfig& config() const { return config_; }
  bool has_pooler() const { return !pooler_.is_empty(); }

 private:
  BertConfig config_;
  BertEmbeddings embeddings_{nullptr};
  BertEncoder encoder_{nullptr};
  DenseOnly pooler_{nullptr};
};
TORCH_MODULE(BertModel);

// Sentence-transformers' mean pooling: the average of the token vectors where
// attention_mask is 1, then (normalize) divided by its L2 norm. [N, hidden].
torch::Tensor mean_pool(const torch::Tensor& last_hidden, const torch::Tensor& attention_mask, bool normalize);

}  // namespace medtrain::models::nlu
