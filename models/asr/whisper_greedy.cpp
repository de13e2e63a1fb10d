#include "models/asr/whisper_greedy.h"

#include <fmt/format.h>
#include <torch/torch.h>

#include <algorithm>
#include <limits>
#include <vector>

#include "models/model_error.h"

namespace medtrain::models::asr {
namespace {

void suppress(torch::Tensor& logits, const std::vector<int64_t>& ids) {
  if (ids.empty()) return;
  const auto index = torch::tensor(ids, torch::TensorOptions().dtype(torch::kLong).device(logits.device()));
  logits.index_fill_(1, index, -std::numeric_limits<float>::infinity());
}

int64_t step_budget(const WhisperConfig& c, const GreedyOptions& o) {
  const auto prompt = static_cast<int64_t>(o.prompt.size());
  if (prompt == 0) throw ModelError("Whisper greedy decoding: empty prompt");
  if (prompt >= c.max_target_positions) {
    throw ModelError(fmt::format("Whisper greedy decoding: a prompt of {} tokens leaves no room under "
                                 "max_target_positions {}",
                                 prompt, c.max_target_positions));
  }
  if (c.eos_token_id < 0) throw ModelError("Whisper greedy decoding: the config names no eos_token_id");
  if (o.max_new_tokens < 0) throw ModelError("Whisper greedy decoding: max_new_tokens is negative");
  const int64_t room = c.max_target_positions - prompt;
  return o.max_new_tokens == 0 ? room : std::min(o.max_new_tokens, room);
}

}  // namespace

std::vector<int64_t> english_prompt(const WhisperConfig& config) {
  if (config.decoder_start_token_id < 0 || config.no_timestamps_token_id < 0) {
    throw ModelError("Whisper: the config names no decoder_start_token_id or no_timestamps_token_id "
                     "(generation_config.json), so the prompt <|startoftranscript|><|notimestamps|> is unknown");
  }
  return {config.decoder_start_token_id, config.no_timestamps_token_id};
}

GreedyResult greedy_search(Whisper& model, const torch::Tensor& encoder, const GreedyOptions& options) {
  const WhisperConfig& c = model->config();
  const int64_t budget = step_budget(c, options);
  torch::NoGradGuard no_grad;
  const int64_t rows = encoder.size(0);
  const auto ids = torch::TensorOptions().dtype(torch::kLong).device(encoder.device());
  auto sequence = torch::tensor(options.prompt, ids).unsqueeze(0).repeat({rows, 1});

  WhisperKvCache cache;
  WhisperKvCache* kv = options.use_cache ? &cache : nullptr;
  auto logits = model->decode(sequence, encoder, kv).select(1, -1);
  GreedyResult out{std::vector<std::vector<int64_t>>(rows), std::vector<bool>(rows, false),
                   std::vector<double>(rows, 0.0)};
  for (int64_t step = 0; step < budget; ++step) {
    logits = logits.to(torch::kFloat);
    suppress(logits, c.suppress_tokens);
    if (step == 0) suppress(logits, c.begin_suppress_tokens);
    const auto next = logits.argmax(1);
    const auto host = next.cpu();
    const auto logprob = logits.log_softmax(1).gather(1, next.unsqueeze(1)).squeeze(1).to(torch::kDouble).cpu();
    bool all_ended = true;
    for (int64_t r = 0; r < rows; ++r) {
      if (out.ended[r]) continue;
      out.sum_logprob[r] += logprob[r].item<double>();
      const int64_t id = host[r].item<int64_t>();
      if (id == c.eos_token_id) {
        out.ended[r] = true;
      } else {
        out.tokens[r].push_back(id);
        all_ended = false;
      }
    }
    if (all_ended || step + 1 == budget) break;
    // Ended rows keep decoding (their tokens are ignored): a batch stays one tensor.
    sequence = torch::cat({sequence, next.unsqueeze(1)}, 1);
    logits = (kv != nullptr ? model->decode(next.unsqueeze(1), encoder, kv) : model->decode(sequence, encoder))
                 .select(1, -1);
  }
  return out;
}

GreedyResult greedy_decode(Whisper& model, const torch::Tensor& features, const GreedyOptions& options) {
  step_budget(model->config(), options);  // a bad prompt fails before the encoder's seconds of work
  torch::NoGradGuard no_grad;
  return greedy_search(model, model->encode(features), options);
}

}  // namespace medtrain::models::asr
