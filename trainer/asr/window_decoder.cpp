#include "trainer/asr/window_decoder.h"

#include <torch/torch.h>

#include <limits>
#include <utility>
#include <vector>

#include "models/asr/whisper_beam.h"
#include "models/asr/whisper_greedy.h"

namespace medtrain::asr {
namespace {

using models::asr::WhisperConfig;

void suppress(torch::Tensor& logits, const std::vector<int64_t>& ids) {
  if (ids.empty()) return;
  const auto index = torch::tensor(ids, torch::TensorOptions().dtype(torch::kLong).device(logits.device()));
  logits.index_fill_(-1, index, -std::numeric_limits<float>::infinity());
}

// Note [Scoring]: the log-probabilities of one row's tokens (and of its
// <|endoftext|> when it ended) given the prompt and the tokens before each.
void score_row(models::asr::Whisper& model, const torch::Tensor& encoder_row, const std::vector<int64_t>& prompt,
               bool ended, WindowTranscript& w) {
  const WhisperConfig& c = model->config();
  std::vector<int64_t> input = prompt, targets = w.tokens;
  input.insert(input.end(), w.tokens.begin(), w.tokens.end());
  if (ended) targets.push_back(c.eos_token_id);
  if (targets.empty()) return;
  const auto ids = torch::TensorOptions().dtype(torch::kLong).device(encoder_row.device());
  // Position prompt-1+j predicts target j; the input never needs its own last token.
  input.resize(prompt.size() + targets.size() - 1);
  auto logits = model->decode(torch::tensor(input, ids).unsqueeze(0), encoder_row)[0]
                    .narrow(0, static_cast<int64_t>(prompt.size()) - 1, static_cast<int64_t>(targets.size()))
                    .to(torch::kFloat);
  suppress(logits, c.suppress_tokens);
  auto first = logits[0];
  suppress(first, c.begin_suppress_tokens);
  const auto picked = logits.log_softmax(-1).gather(1, torch::tensor(targets, ids).unsqueeze(1));
  w.sum_logprob = picked.sum().item<double>();
  w.scored = static_cast<int64_t>(targets.size());
}

// openai-whisper's sample_len (n_text_ctx // 2), and what ctranslate2's
// default max_length 448 allows with this prompt: a window stuck repeating
// itself stops where theirs does.
int64_t window_tokens(const WhisperConfig& c) { return c.max_target_positions / 2; }

std::vector<WindowTranscript> beam_windows(models::asr::Whisper& model, const torch::Tensor& features,
                                           int64_t beam_size) {
  models::asr::BeamOptions options;
  options.prompt = models::asr::english_prompt(model->config());
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
                                                 int64_t beam_size) {
  torch::NoGradGuard no_grad;
  if (beam_size > 1) return beam_windows(model, features, beam_size);
  models::asr::GreedyOptions options;
  options.prompt = models::asr::english_prompt(model->config());
  options.max_new_tokens = window_tokens(model->config());
  const models::asr::GreedyResult greedy = models::asr::greedy_decode(model, features, options);
  const auto encoder = model->encode(features);
  std::vector<WindowTranscript> out(greedy.tokens.size());
  for (size_t r = 0; r < out.size(); ++r) {
    out[r].tokens = greedy.tokens[r];
    score_row(model, encoder.narrow(0, static_cast<int64_t>(r), 1), options.prompt, greedy.ended[r], out[r]);
  }
  return out;
}

}  // namespace medtrain::asr
