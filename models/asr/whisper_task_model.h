#pragma once
// Whisper as the trainer's model (model.task asr): the engine hands it a batch
// of log-mel windows and the target token ids, and gets the teacher-forced
// logits back. Parameter names are HF's WhisperForConditionalGeneration
// ("model.encoder...", "model.decoder..."): the Whisper's WhisperSeq2Seq is
// registered here as "model", so checkpoints and exports keep HF's names.
#include <torch/types.h>

#include "models/asr/whisper.h"
#include "models/image_model.h"

namespace medtrain::models::asr {

// A batch of targets (prompt + text + <|endoftext|>, padded with -100) split
// for teacher forcing: the decoder reads tokens [B, L-1] (padding read as
// <|endoftext|>: causal attention keeps it from the scored positions) and
// predicts labels [B, L-1], where padding and the prompt's tokens (every id
// above <|endoftext|>'s: the forced <|startoftranscript|>, language, task and
// <|notimestamps|>) are -100, not scored.
struct TeacherForcing {
  torch::Tensor tokens;
  torch::Tensor labels;
};
TeacherForcing teacher_forcing(const torch::Tensor& targets, int64_t eot_id);

class WhisperTaskModel : public ImageModel {
 public:
  explicit WhisperTaskModel(Whisper whisper);

  // The encoder states of log-mel [B, n_mels, 3000] (no gradient into the
  // encoder when it is frozen).
  torch::Tensor forward(torch::Tensor features) override;
  // Teacher-forced logits [B, T, vocab] of decoder tokens [B, T].
  torch::Tensor logits(const torch::Tensor& features, const torch::Tensor& tokens);

  // Every LayerNorm and fc1 bias+GELU of the encoder and decoder (training only).
  void use_fused_kernels(bool on) override;

  // Keeps the encoder's weights as they are: no gradients, and its forward
  // runs without autograd (the backward stops at the decoder's cross-attention).
  void freeze_encoder();
  bool encoder_frozen() const { return frozen_; }

  Whisper& whisper() { return whisper_; }
  const WhisperConfig& config() const { return whisper_->config(); }

 private:
  Whisper whisper_;
  bool frozen_ = false;
};

}  // namespace medtrain::models::asr
