#pragma once
// One 30-s window of log-mel -> its tokens and their log-probabilities, for a
// batch of windows at once. Greedy decoding (models/asr/whisper_greedy.h; or
// beam search, below) from the prompt (whisper_language.h: <|startoftranscript|>
// <|notimestamps|> for .en models, with <|xx|><|transcribe|> between them for
// multilingual ones), with the model's suppression lists, until <|endoftext|> or max_target_positions / 2 tokens (224: openai-whisper's
// sample_len, and ctranslate2's limit for its default max_length 448).
//
// Note [Scoring]: a transcript's log-probabilities come from the distribution
// the decoder chose from: the suppressed ids set to -inf (begin_suppress_tokens
// at the first step too), then log_softmax. The <|endoftext|> that ended a
// window is scored as well, as ctranslate2 does; faster-whisper's avg_logprob
// is this sum over (tokens + 1). Greedy and beam search both sum them as they
// decode (GreedyResult::sum_logprob, BeamHypothesis::sum_logprob): no second pass.
#include <torch/types.h>

#include <cstdint>
#include <vector>

#include "models/asr/whisper.h"

namespace medtrain::asr {

struct WindowTranscript {
  std::vector<int64_t> tokens;  // after the prompt, without <|endoftext|>
  double sum_logprob = 0.0;     // over tokens (and <|endoftext|> when reached)
  int64_t scored = 0;           // how many log-probabilities sum_logprob holds
};

// features [B, num_mel_bins, input_frames()] on the model's device. A
// beam_size above 1 runs beam search instead (models/asr/whisper_beam.h,
// CTranslate2's rules, length penalty 1, patience 1). ModelError for a prompt the model
// refuses (ids outside its vocabulary), or a beam size it refuses.
std::vector<WindowTranscript> transcribe_windows(models::asr::Whisper& model, const torch::Tensor& features,
                                                 const std::vector<int64_t>& prompt, int64_t beam_size = 1);

}  // namespace medtrain::asr
