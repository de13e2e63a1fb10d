#include "models/asr/whisper_task_model.h"

#include <torch/torch.h>

#include <utility>

namespace medtrain::models::asr {

namespace {
constexpr int64_t kIgnore = -100;  // cross_entropy's default ignore_index
}  // namespace

TeacherForcing teacher_forcing(const torch::Tensor& targets, int64_t eot_id) {
  const int64_t length = targets.size(1);
  auto tokens = targets.narrow(1, 0, length - 1).clone();
  tokens.masked_fill_(tokens.eq(kIgnore), eot_id);
  auto labels = targets.narrow(1, 1, length - 1).clone();
  labels.masked_fill_(labels.gt(eot_id), kIgnore);
  return {tokens, labels};
}

WhisperTaskModel::WhisperTaskModel(Whisper whisper) : whisper_(std::move(whisper)) {
  register_module("model", whisper_->model());
}

torch::Tensor WhisperTaskModel::forward(torch::Tensor features) {
  if (!frozen_ || !is_training()) return whisper_->encode(features);
  torch::NoGradGuard no_grad;
  return whisper_->encode(features);
}

torch::Tensor WhisperTaskModel::logits(const torch::Tensor& features, const torch::Tensor& tokens) {
  return whisper_->decode(tokens, forward(features));
}

void WhisperTaskModel::use_fused_kernels(bool on) { set_fused_kernels(*this, on); }

void WhisperTaskModel::freeze_encoder() {
  frozen_ = true;
  for (auto& p : whisper_->model()->encoder->parameters()) p.set_requires_grad(false);
}

}  // namespace medtrain::models::asr
