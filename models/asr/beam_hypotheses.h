#pragma once
// The bookkeeping of one utterance's beam search, without tensors: which of a
// step's candidates finish, which stay alive, when the search ends, and which
// finished hypothesis wins. It follows CTranslate2's BeamSearch
// (src/decoding.cc), which faster-whisper runs:
//   - each step proposes the 2N best continuations over all N alive beams
//     (sorted, best first); only the first N may finish;
//   - a candidate among the first N that is <|endoftext|> (or any of them at
//     the last step) is set aside as finished, and its slot is taken by the
//     next candidate of the second half that is not <|endoftext|>;
//   - the utterance ends at the last step, or once round(N * patience)
//     hypotheses have finished; with length_penalty 0, as soon as the best
//     candidate of a step finishes (no later hypothesis can beat its sum);
//   - finished hypotheses are ranked by sum_logprob / length^length_penalty,
//     where the length counts the tokens without <|endoftext|>
//     (eos_in_length: with it, Hugging Face's convention).
#include <cstdint>
#include <vector>

namespace medtrain::models::asr {

struct BeamHypothesis {
  std::vector<int64_t> tokens;  // after the prompt, without <|endoftext|>
  bool ended = false;           // reached <|endoftext|> (else: the length limit)
  double sum_logprob = 0;       // log-probs of the tokens, and of <|endoftext|> when ended
  double score = 0;             // sum_logprob / length^length_penalty: what ranks hypotheses
  double avg_logprob = 0;       // sum_logprob / (tokens + 1): faster-whisper's avg_logprob
};

struct BeamSettings {
  int64_t beam_size = 5;
  double length_penalty = 1.0;
  double patience = 1.0;
  bool eos_in_length = false;
  int64_t eos = -1;
};

// A continuation of one alive beam: its running sum, the beam it extends
// (index among the utterance's alive beams) and the token appended.
struct BeamCandidate {
  float sum_logprob = 0;
  int64_t origin = 0;
  int64_t token = 0;
};

class UtteranceBeams {
 public:
  explicit UtteranceBeams(const BeamSettings& settings);
  // candidates: this step's 2N best continuations, best first. Sets the
  // finished ones aside and keeps N alive (kept()). True when this
  // utterance's search is over.
  bool advance(const std::vector<BeamCandidate>& candidates, bool last_step);
  // The N continuations kept by the last advance(), in beam order.
  const std::vector<BeamCandidate>& kept() const { return kept_; }
  // The best finished hypothesis (ModelError-free: at least one exists once
  // advance() returned true).
  BeamHypothesis best() const;

 private:
  void finish(const BeamCandidate& c);
  BeamSettings settings_;
  std::vector<std::vector<int64_t>> beams_;  // tokens of the alive beams
  std::vector<BeamCandidate> kept_;
  std::vector<BeamHypothesis> finished_;
  bool top_finished_ = false;
};

}  // namespace medtrain::models::asr
