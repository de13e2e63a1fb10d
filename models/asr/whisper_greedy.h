#pragma once
// Greedy decoding with Whisper: ids in, ids out (no tokenizer). From a forced
// prompt (for .en models <|startoftranscript|><|notimestamps|>), each step
// takes the most likely token, with HF's suppression (suppress_tokens always,
// begin_suppress_tokens at the first generated step), until <|endoftext|> or
// max_new_tokens. The KV cache makes each step one token's work; use_cache
// false recomputes the whole sequence (for tests: both give the same tokens).
#include <torch/types.h>

#include <cstdint>
#include <vector>

#include "models/asr/whisper.h"

namespace medtrain::models::asr {

struct GreedyOptions {
  std::vector<int64_t> prompt;  // forced ids, the same for every row
  int64_t max_new_tokens = 0;   // 0: up to max_target_positions in all (prompt included)
  bool use_cache = true;
};

struct GreedyResult {
  std::vector<std::vector<int64_t>> tokens;  // per row, after the prompt, without <|endoftext|>
  std::vector<bool> ended;                   // the row reached <|endoftext|> (else: length limit)
  // Per row, the log-probability (after suppression) of its tokens and of its
  // <|endoftext|> when it ended: what a transcript's avg_logprob is made of.
  std::vector<double> sum_logprob;
};

// [decoder_start_token_id, no_timestamps_token_id]; ModelError when the
// config does not name them.
std::vector<int64_t> english_prompt(const WhisperConfig& config);

// features: log-mel [B, num_mel_bins, input_frames()]. ModelError for a bad
// prompt (empty, ids outside the vocabulary, too long) or a config without
// eos_token_id.
GreedyResult greedy_decode(Whisper& model, const torch::Tensor& features, const GreedyOptions& options);
// The same from encoder states [B, max_source_positions, d_model] that the
// caller already has (evaluation computes them for its loss too).
GreedyResult greedy_search(Whisper& model, const torch::Tensor& encoder, const GreedyOptions& options);

}  // namespace medtrain::models::asr
