#include "models/asr/beam_hypotheses.h"

#include <cmath>
#include <stdexcept>
#include <utility>
#include <vector>

namespace medtrain::models::asr {

UtteranceBeams::UtteranceBeams(const BeamSettings& settings) : settings_(settings), beams_(1) {}

void UtteranceBeams::finish(const BeamCandidate& c) {
  BeamHypothesis h;
  h.tokens = beams_.at(c.origin);
  h.ended = c.token == settings_.eos;
  if (!h.ended) h.tokens.push_back(c.token);
  h.sum_logprob = c.sum_logprob;
  finished_.push_back(std::move(h));
}

bool UtteranceBeams::advance(const std::vector<BeamCandidate>& candidates, bool last_step) {
  const auto n = static_cast<size_t>(settings_.beam_size);
  if (candidates.size() < n) throw std::logic_error("UtteranceBeams::advance: fewer candidates than beams");
  std::vector<BeamCandidate> picks;
  size_t secondary = n;  // the next candidate of the second half that may take a finished slot
  for (size_t k = 0; k < n; ++k) {
    size_t chosen = k;
    if (candidates[k].token == settings_.eos || last_step) {
      if (k == 0) top_finished_ = true;
      finish(candidates[k]);
      for (size_t j = secondary; j < candidates.size(); ++j) {
        if (candidates[j].token != settings_.eos) {
          chosen = j;
          secondary = j + 1;
          break;
        }
      }
    }
    picks.push_back(candidates[chosen]);
  }
  std::vector<std::vector<int64_t>> next;
  next.reserve(n);
  for (const auto& p : picks) {
    next.push_back(beams_.at(p.origin));
    next.back().push_back(p.token);
  }
  beams_ = std::move(next);
  kept_ = std::move(picks);
  // As CTranslate2: without a length penalty the sums only fall, so the first
  // time the best candidate finishes nothing later can beat it.
  const auto max_candidates = static_cast<size_t>(std::round(static_cast<float>(n) * settings_.patience));
  if (last_step) return true;
  if (settings_.length_penalty == 0) return top_finished_ && !finished_.empty();
  return finished_.size() >= max_candidates;
}

BeamHypothesis UtteranceBeams::best() const {
  if (finished_.empty()) throw std::logic_error("UtteranceBeams::best: no finished hypothesis");
  BeamHypothesis winner;
  bool first = true;
  for (BeamHypothesis h : finished_) {
    const auto tokens = static_cast<double>(h.tokens.size());
    const double length = tokens + (settings_.eos_in_length && h.ended ? 1.0 : 0.0);
    h.score = h.sum_logprob / std::pow(length, settings_.length_penalty);
    h.avg_logprob = h.sum_logprob / (tokens + 1.0);
    if (first || h.score > winner.score) winner = std::move(h);  // ties: the first to finish
    first = false;
  }
  return winner;
}

}  // namespace medtrain::models::asr
