#pragma once
// BERT with a task head, as the trainer drives any model (ImageModel: one
// tensor in, logits out). Input: token ids int64 [N, L], padded with the
// config's pad_token_id, which is also how padding is found (attention mask =
// ids != pad); token types are all 0 (single texts).
//
//   kSequence  mean of the token vectors (sentence-transformers' pooling, what
//              MiniLM was trained for) -> dropout -> classifier: logits [N, K]
//   kToken     each token vector -> dropout -> classifier: logits [N, L, K]
//              (BertForTokenClassification)
//
// Parameters are named as in Hugging Face's task models: "bert.*" for the
// encoder, "classifier.weight/bias" for the head.
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "models/image_model.h"
#include "models/nlu/bert.h"

namespace medtrain::models::nlu {

enum class TextHead { kSequence, kToken };

class BertTaskModel final : public ImageModel {
 public:
  BertTaskModel(BertModel encoder, TextHead head, int64_t outputs);
  torch::Tensor forward(torch::Tensor ids) override;
  // Every LayerNorm and intermediate bias+GELU of the encoder (training only).
  void use_fused_kernels(bool on) override;
  const BertConfig& config() const { return bert_->config(); }

 private:
  BertModel bert_;
  TextHead head_;
  torch::nn::Dropout dropout_{nullptr};
  torch::nn::Linear classifier_{nullptr};
};

// From a Hugging Face folder: with its weights (`notes` gets what loading did),
// or, `weights` false, its architecture with a fresh initialisation (for weights
// that a checkpoint supplies next). The head is always freshly initialised
// (normal(0, 0.02) weights, zero bias, as transformers does). ModelError on a
// folder load_hf_bert refuses.
std::shared_ptr<BertTaskModel> create_text_model(const std::filesystem::path& dir, TextHead head, int64_t outputs,
                                                 bool weights, std::vector<std::string>* notes = nullptr);

}  // namespace medtrain::models::nlu
