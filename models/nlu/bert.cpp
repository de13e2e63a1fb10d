#include "models/nlu/bert.h"

#include <fmt/format.h>
#include <torch/torch.h>

#include "models/model_error.h"

namespace medtrain::models::nlu {

BertEncoderImpl::BertEncoderImpl(const BertConfig& c) {
  auto list = register_module("layer", torch::nn::ModuleList());
  for (int64_t i = 0; i < c.num_hidden_layers; ++i) {
    layers_.push_back(BertLayer(c));
    list->push_back(layers_.back());
  }
}

torch::Tensor BertEncoderImpl::forward(torch::Tensor hidden, const torch::Tensor& key_mask) {
  for (auto& layer : layers_) hidden = layer(hidden, key_mask);
  return hidden;
}

BertModelImpl::BertModelImpl(const BertConfig& c, bool with_pooler) : config_(c) {
  embeddings_ = register_module("embeddings", BertEmbeddings(c));
  encoder_ = register_module("encoder", BertEncoder(c));
  if (with_pooler) pooler_ = register_module("pooler", DenseOnly(c.hidden_size, c.hidden_size));
}

torch::Tensor BertModelImpl::forward(const torch::Tensor& input_ids, const torch::Tensor& attention_mask,
                                     const torch::Tensor& token_type_ids) {
  TORCH_CHECK(input_ids.dim() == 2, "input_ids must be [N, L], got ", input_ids.sizes());
  if (input_ids.size(1) > config_.max_position_embeddings) {
    throw ModelError(fmt::format("a sequence of {} tokens is longer than the model's max_position_embeddings {}",
                                 input_ids.size(1), config_.max_position_embeddings));
  }
  // [N, 1, 1, L]: every query of a sequence may attend to its non-padding keys.
  const auto key_mask = attention_mask.to(torch::kBool).unsqueeze(1).unsqueeze(1);
  return encoder_(embeddings_(input_ids, token_type_ids), key_mask);
}

torch::Tensor BertModelImpl::pool(const torch::Tensor& last_hidden) {
  if (pooler_.is_empty()) throw ModelError("this BERT model has no pooler (its weights had none)");
  return torch::tanh(pooler_->dense()(last_hidden.select(1, 0)));
}

torch::Tensor mean_pool(const torch::Tensor& last_hidden, const torch::Tensor& attention_mask, bool normalize) {
  const auto mask = attention_mask.unsqueeze(-1).to(last_hidden.scalar_type());
  const auto summed = (last_hidden * mask).sum(1);
  const auto counts = mask.sum(1).clamp_min(1e-9);
  auto pooled = summed / counts;
  if (normalize) pooled = pooled / pooled.norm(2, {1}, true).clamp_min(1e-12);
  return pooled;
}

}  // namespace medtrain::models::nlu
