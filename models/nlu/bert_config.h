#pragma once
// The shape of a BERT-family encoder, read from a Hugging Face config.json
// (BertModel's keys). Only what changes the computation is kept; a value
// medtrain does not implement (relative position embeddings, an unknown
// activation) is a ModelError naming the key, never silently ignored.
#include <cstdint>
#include <string>

namespace medtrain::models::nlu {

struct BertConfig {
  int64_t vocab_size = 30522;
  int64_t hidden_size = 768;
  int64_t num_hidden_layers = 12;
  int64_t num_attention_heads = 12;
  int64_t intermediate_size = 3072;
  int64_t max_position_embeddings = 512;
  int64_t type_vocab_size = 2;
  int64_t pad_token_id = 0;
  double layer_norm_eps = 1e-12;
  double hidden_dropout_prob = 0.1;
  double attention_probs_dropout_prob = 0.1;
  bool gelu_tanh = false;  // hidden_act "gelu_new" / "gelu_pytorch_tanh"; false: exact "gelu"
};

// Parses config.json text; `origin` (its path) is named in every error.
BertConfig parse_bert_config(const std::string& json_text, const std::string& origin);

}  // namespace medtrain::models::nlu
