#pragma once
// Beam search with Whisper, as CTranslate2 (faster-whisper's engine) runs it:
// ids in, the best hypothesis per utterance out, with its scores. The rules
// of the search are in beam_hypotheses.h; here the tensors: the same
// suppression as greedy decoding (suppress_tokens at every step,
// begin_suppress_tokens at the first), applied to the logits before the
// log-softmax (as CTranslate2 and openai-whisper; Hugging Face suppresses
// after it, without renormalising); the first step runs one beam per
// utterance, then the KV cache is expanded to N beams and reordered along
// the beam dimension (index_select) after every step; utterances whose search
// is over leave the batch. beam_size 1 gives greedy decoding's tokens.
#include <torch/types.h>

#include <cstdint>
#include <vector>

#include "models/asr/beam_hypotheses.h"
#include "models/asr/whisper.h"

namespace medtrain::models::asr {

struct BeamOptions {
  std::vector<int64_t> prompt;  // forced ids, the same for every row (english_prompt(config))
  int64_t beam_size = 5;        // 1 ... min(256, vocab_size / 2)
  // Decoding steps; 0: up to max_target_positions in all (prompt included),
  // more is a ModelError. (CTranslate2's Whisper max_length L, prompt
  // <|startoftranscript|><|notimestamps|>, means min(L / 2, L - 1) steps.)
  int64_t max_new_tokens = 0;
  // Hypotheses rank by sum_logprob / length^length_penalty (CTranslate2's and
  // faster-whisper's form; 1: the mean log-prob per token; 0: the sum).
  double length_penalty = 1.0;
  double patience = 1.0;       // an utterance ends after round(beam_size * patience) finished hypotheses
  bool eos_in_length = false;  // count <|endoftext|> in the length, as Hugging Face's generate does
};

// encoder: Whisper's encoder states [B, max_source_positions, d_model] (from
// model->encode). Returns B hypotheses. ModelError for bad options (beam size,
// patience, length penalty, max_new_tokens beyond the decoder's positions, a
// bad prompt) or a config without eos_token_id.
std::vector<BeamHypothesis> beam_search(Whisper& model, const torch::Tensor& encoder, const BeamOptions& options);

// The same from log-mel features [B, num_mel_bins, input_frames()].
std::vector<BeamHypothesis> beam_decode(Whisper& model, const torch::Tensor& features, const BeamOptions& options);

}  // namespace medtrain::models::asr
