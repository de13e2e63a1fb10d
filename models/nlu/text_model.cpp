#include "models/nlu/text_model.h"

#include <torch/nn/init.h>

#include "models/nlu/hf_folder.h"

namespace medtrain::models::nlu {

BertTaskModel::BertTaskModel(BertModel encoder, TextHead head, int64_t outputs) : bert_(std::move(encoder)), head_(head) {
  register_module("bert", bert_);
  const auto& c = bert_->config();
  dropout_ = register_module("dropout", torch::nn::Dropout(c.hidden_dropout_prob));
  classifier_ = register_module("classifier", torch::nn::Linear(c.hidden_size, outputs));
  torch::NoGradGuard no_grad;
  torch::nn::init::normal_(classifier_->weight, 0.0, 0.02);
  torch::nn::init::zeros_(classifier_->bias);
}

torch::Tensor BertTaskModel::forward(torch::Tensor ids) {
  const auto mask = ids.ne(bert_->config().pad_token_id).to(torch::kInt64);
  const auto hidden = bert_->forward(ids, mask, torch::zeros_like(ids));
  if (head_ == TextHead::kToken) return classifier_(dropout_(hidden));
  return classifier_(dropout_(mean_pool(hidden, mask, /*normalize=*/false)));
}

void BertTaskModel::use_fused_kernels(bool on) { set_fused_kernels(*this, on); }

std::shared_ptr<BertTaskModel> create_text_model(const std::filesystem::path& dir, TextHead head, int64_t outputs,
                                                 bool weights, std::vector<std::string>* notes) {
  BertModel encoder{nullptr};
  if (weights) {
    HfBert hf = load_hf_bert(dir, /*keep_pooler=*/false);
    if (notes != nullptr) notes->insert(notes->end(), hf.notes.begin(), hf.notes.end());
    encoder = std::move(hf.model);
  } else {
    encoder = BertModel(read_hf_bert_config(dir), /*with_pooler=*/false);
  }
  auto model = std::make_shared<BertTaskModel>(std::move(encoder), head, outputs);
  model->train();
  return model;
}

}  // namespace medtrain::models::nlu
