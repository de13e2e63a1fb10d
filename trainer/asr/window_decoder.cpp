#include "trainer/asr/window_decoder.h"

#include <torch/torch.h>

#include <utility>
#include <vector>

#include "models/asr/whisper_beam.h"
#include "models/asr/whisper_greedy.h"

namespace medtrain::asr {
namespace {

using models::asr::WhisperConfig;

// openai-whisper's sample_len (n_text_ctx // 2), and what ctranslate2's
// default max_length 448 allows with this prompt: a window stuck repeating
// itself stops where theirs does.
int64_t window_tokens(const WhisperConfig& c) { return c.max_target_positions / 2; }

std::vector<WindowTranscript> beam_windows(models::asr::Whisper& model, const torch::Tensor& features,
                                           const std::vector<int64_t>& prompt, int64_t beam_size) {
  models::asr::BeamOptions options;
  options.prompt = prompt;
  options.beam_size = beam_size;
  options.max_new_tokens = window_tokens(model->config());
  std::vector<WindowTranscript> out;
  for (auto& h : models::asr::beam_search(model, model->encode(features), options)) {
    const auto scored = static_cast<int64_t>(h.tokens.size()) + (h.ended ? 1 : 0);
    out.push_back({std::move(h.tokens), h.sum_logprob, scored});
  }
  return out;
}

}  // namespace

std::vector<WindowTranscript> transcribe_windows(models::asr::Whisper& model, const torch::Tensor& features,
                                                 const std::vector<int64_t>& prompt, int64_t beam_size) {
  torch::NoGradGuard no_grad;
  if (beam_size > 1) return beam_windows(model, features, prompt, beam_size);
  models::asr::GreedyOptions options;
  options.prompt = prompt;
  options.max_new_tokens = window_tokens(model->config());
  models::asr::GreedyResult greedy = models::asr::greedy_decode(model, features, options);
  std::vector<WindowTranscript> out(greedy.tokens.size());
  for (size_t r = 0; r < out.size(); ++r) {
    // Scored: the tokens and the <|endoftext|> of a row that ended.
    const auto scored = static_cast<int64_t>(greedy.tokens[r].size()) + (greedy.ended[r] ? 1 : 0);
    out[r] = {std::move(greedy.tokens[r]), greedy.sum_logprob[r], scored};
  }
  return out;
}

}  // namespace medtrain::asr
