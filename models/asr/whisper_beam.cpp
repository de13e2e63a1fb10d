#include "models/asr/whisper_beam.h"

#include <fmt/format.h>
#include <torch/torch.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>
#include <utility>
#include <vector>

#include "models/model_error.h"

namespace medtrain::models::asr {
namespace {

// Each beam holds its own copy of the self-attention cache and of the
// cross-attention K/V: beyond this, memory, not the search, is what grows.
constexpr int64_t kMaxBeamSize = 256;

void check_beam_size(const WhisperConfig& c, const BeamOptions& o) {
  if (o.beam_size < 1) throw ModelError(fmt::format("Whisper beam search: beam_size must be >= 1, got {}", o.beam_size));
  const int64_t limit = std::min(kMaxBeamSize, c.vocab_size / 2);  // 2N candidates per step must exist
  if (o.beam_size > limit) {
    throw ModelError(fmt::format("Whisper beam search: beam_size {} is too large (at most {}: 256, and half the "
                                 "vocabulary of {})",
                                 o.beam_size, limit, c.vocab_size));
  }
  if (!std::isfinite(o.patience) || o.patience <= 0 || std::round(static_cast<float>(o.beam_size) * o.patience) < 1) {
    throw ModelError(fmt::format("Whisper beam search: patience {} must be > 0 with round(beam_size * patience) >= 1",
                                 o.patience));
  }
  if (!std::isfinite(o.length_penalty)) {
    throw ModelError(fmt::format("Whisper beam search: length_penalty must be finite, got {}", o.length_penalty));
  }
}

// The number of decoding steps; ModelError for options that do not fit the model.
int64_t check_options(const WhisperConfig& c, const BeamOptions& o) {
  check_beam_size(c, o);
  const auto prompt = static_cast<int64_t>(o.prompt.size());
  if (prompt == 0) throw ModelError("Whisper beam search: empty prompt");
  if (prompt >= c.max_target_positions) {
    throw ModelError(fmt::format("Whisper beam search: a prompt of {} tokens leaves no room under "
                                 "max_target_positions {}",
                                 prompt, c.max_target_positions));
  }
  if (c.eos_token_id < 0) throw ModelError("Whisper beam search: the config names no eos_token_id");
  const int64_t room = c.max_target_positions - prompt;
  if (o.max_new_tokens < 0 || o.max_new_tokens > room) {
    throw ModelError(fmt::format("Whisper beam search: max_new_tokens {} is outside [0, {}] (max_target_positions "
                                 "{} less a prompt of {})",
                                 o.max_new_tokens, room, c.max_target_positions, prompt));
  }
  return o.max_new_tokens == 0 ? room : o.max_new_tokens;
}

void suppress(torch::Tensor& logits, const std::vector<int64_t>& ids) {
  if (ids.empty()) return;
  const auto index = torch::tensor(ids, torch::TensorOptions().dtype(torch::kLong).device(logits.device()));
  logits.index_fill_(1, index, -std::numeric_limits<float>::infinity());
}

// Suppression before the log-softmax, so the log-probs are renormalised over
// the tokens allowed (CTranslate2, openai-whisper).
torch::Tensor log_probs(const torch::Tensor& logits, const WhisperConfig& c, bool first_step) {
  auto x = logits.to(torch::kFloat).clone();
  suppress(x, c.suppress_tokens);
  if (first_step) suppress(x, c.begin_suppress_tokens);
  return torch::log_softmax(x, 1);
}

// This step's 2N best continuations of utterance `i` (host tensors [U, 2N]).
std::vector<BeamCandidate> candidates(const torch::Tensor& top, const torch::Tensor& index, int64_t i, int64_t vocab) {
  const auto scores = top.accessor<float, 2>();
  const auto flat = index.accessor<int64_t, 2>();
  std::vector<BeamCandidate> out(static_cast<size_t>(top.size(1)));
  for (int64_t j = 0; j < top.size(1); ++j) out[j] = {scores[i][j], flat[i][j] / vocab, flat[i][j] % vocab};
  return out;
}

torch::Tensor rows_tensor(const std::vector<int64_t>& rows, const torch::Device& device) {
  return torch::tensor(rows, torch::TensorOptions().dtype(torch::kLong)).to(device);
}

// The decoder state of the next step: self-attention K/V follow the beams
// they extend; the cross-attention K/V and encoder rows (equal for all beams
// of an utterance) change only when the batch is expanded or shrinks.
struct DecoderRows {
  WhisperKvCache cache;
  torch::Tensor encoder;  // one row per beam (per utterance before the first step)

  void reorder(const std::vector<int64_t>& origins, const std::vector<int64_t>& utterance_rows, bool regroup) {
    const auto device = encoder.device();
    const auto self_index = rows_tensor(origins, device);
    const auto cross_index = rows_tensor(utterance_rows, device);
    for (auto& layer : cache.layers) {
      layer.self = {layer.self.k.index_select(0, self_index), layer.self.v.index_select(0, self_index)};
      if (regroup) layer.cross = {layer.cross.k.index_select(0, cross_index), layer.cross.v.index_select(0, cross_index)};
    }
    if (regroup) encoder = encoder.index_select(0, cross_index);
  }
};

}  // namespace

std::vector<BeamHypothesis> beam_search(Whisper& model, const torch::Tensor& encoder, const BeamOptions& options) {
  const WhisperConfig& c = model->config();
  const int64_t budget = check_options(c, options);
  const int64_t n = options.beam_size, vocab = c.vocab_size;
  torch::NoGradGuard no_grad;
  const int64_t rows = encoder.dim() == 3 ? encoder.size(0) : 1;  // a wrong shape is the decoder's error
  std::vector<BeamHypothesis> out(static_cast<size_t>(std::max<int64_t>(rows, 0)));
  if (encoder.dim() == 3 && rows == 0) return out;

  const BeamSettings settings{n, options.length_penalty, options.patience, options.eos_in_length, c.eos_token_id};
  std::vector<UtteranceBeams> searches(out.size(), UtteranceBeams(settings));
  std::vector<int64_t> alive(out.size());
  for (size_t i = 0; i < alive.size(); ++i) alive[i] = static_cast<int64_t>(i);
  const auto ids = torch::TensorOptions().dtype(torch::kLong).device(encoder.device());
  DecoderRows state{{}, encoder};
  auto logits = model->decode(torch::tensor(options.prompt, ids).unsqueeze(0).repeat({rows, 1}), encoder, &state.cache)
                    .select(1, -1);
  torch::Tensor sums;  // running sum of each alive beam (undefined: the first step, one beam each)
  int64_t beams = 1;
  for (int64_t step = 0; step < budget; ++step) {
    auto lp = log_probs(logits, c, step == 0);
    if (sums.defined()) lp = lp + sums.unsqueeze(1);
    const auto utterances = static_cast<int64_t>(alive.size());
    const auto [top_device, index_device] = lp.view({utterances, beams * vocab}).topk(2 * n, 1);
    const auto top = top_device.cpu(), index = index_device.cpu();
    std::vector<int64_t> still, origins, regrouped, tokens;
    std::vector<float> kept_sums;
    for (int64_t i = 0; i < utterances; ++i) {
      UtteranceBeams& search = searches[alive[i]];
      if (search.advance(candidates(top, index, i, vocab), step + 1 == budget)) {
        out[alive[i]] = search.best();
        continue;
      }
      still.push_back(alive[i]);
      for (const BeamCandidate& k : search.kept()) {
        origins.push_back(i * beams + k.origin);
        regrouped.push_back(i * beams);
        tokens.push_back(k.token);
        kept_sums.push_back(k.sum_logprob);
      }
    }
    if (still.empty()) break;
    state.reorder(origins, regrouped, beams == 1 || still.size() < alive.size());
    alive = std::move(still);
    beams = n;
    sums = torch::tensor(kept_sums, torch::TensorOptions().dtype(torch::kFloat)).to(encoder.device());
    logits = model->decode(torch::tensor(tokens, ids).unsqueeze(1), state.encoder, &state.cache).select(1, -1);
  }
  return out;
}

std::vector<BeamHypothesis> beam_decode(Whisper& model, const torch::Tensor& features, const BeamOptions& options) {
  check_options(model->config(), options);  // before the encoder's seconds of work
  torch::NoGradGuard no_grad;
  return beam_search(model, model->encode(features), options);
}

}  // namespace medtrain::models::asr
