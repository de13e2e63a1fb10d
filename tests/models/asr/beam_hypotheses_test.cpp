// UtteranceBeams, worked by hand on CTranslate2's rules (src/decoding.cc,
// BeamSearch::search): a finished slot is refilled from the second half of the
// candidates, an <|endoftext|> stays alive when no refill exists, the search
// ends after beam_size * patience finished hypotheses (or at once when the best
// candidate finishes and there is no length penalty, or at the last step), and
// the winner is ranked by sum / length^length_penalty, <|endoftext|> counted
// only with eos_in_length.
#include <gtest/gtest.h>

#include <cmath>
#include <vector>

#include "models/asr/beam_hypotheses.h"

using namespace medtrain::models::asr;

namespace {

constexpr int64_t kEos = 0;

BeamSettings settings(double length_penalty, double patience = 1.0, bool eos_in_length = false) {
  return {2, length_penalty, patience, eos_in_length, kEos};
}

// Step 0 (one beam): the best candidate is <|endoftext|>: finished (empty), its
// slot taken by the third candidate.
const std::vector<BeamCandidate> kFirst{{-0.1f, 0, kEos}, {-0.5f, 0, 7}, {-0.9f, 0, 8}, {-1.2f, 0, 9}};
// Step 1 (beams [8], [7]): both top candidates finish; only one refill exists.
const std::vector<BeamCandidate> kSecond{{-0.6f, 1, kEos}, {-1.0f, 0, kEos}, {-1.1f, 1, 5}, {-1.3f, 0, kEos}};

}  // namespace

TEST(BeamHypotheses, RefillsFinishedSlotsAndRanksByMeanLogProb) {
  UtteranceBeams beams(settings(1.0));
  EXPECT_FALSE(beams.advance(kFirst, false));
  ASSERT_EQ(beams.kept().size(), 2u);
  EXPECT_EQ(beams.kept()[0].token, 8);  // the refill, in the finished slot
  EXPECT_EQ(beams.kept()[1].token, 7);
  EXPECT_TRUE(beams.advance(kSecond, false));  // 3 finished >= 2
  EXPECT_EQ(beams.kept()[0].token, 5);
  EXPECT_EQ(beams.kept()[1].token, kEos);  // no refill left: stays, as in CTranslate2
  const BeamHypothesis best = beams.best();
  // [] : -0.1 / 0 = -inf; [7]: -0.6 / 1; [8]: -1.0 / 1.
  EXPECT_EQ(best.tokens, (std::vector<int64_t>{7}));
  EXPECT_TRUE(best.ended);
  EXPECT_NEAR(best.sum_logprob, -0.6, 1e-6);
  EXPECT_NEAR(best.score, -0.6, 1e-6);
  EXPECT_NEAR(best.avg_logprob, -0.3, 1e-6);  // faster-whisper: sum / (tokens + 1)
}

TEST(BeamHypotheses, HuggingFaceCountsEndOfTextInTheLength) {
  UtteranceBeams beams(settings(1.0, 1.0, /*eos_in_length=*/true));
  beams.advance(kFirst, false);
  beams.advance(kSecond, false);
  const BeamHypothesis best = beams.best();  // [] : -0.1 / 1 now wins
  EXPECT_TRUE(best.tokens.empty());
  EXPECT_NEAR(best.score, -0.1, 1e-6);
}

TEST(BeamHypotheses, WithoutLengthPenaltyTheFirstBestFinishedEndsTheSearch) {
  UtteranceBeams beams(settings(0.0));
  EXPECT_TRUE(beams.advance(kFirst, false));
  EXPECT_TRUE(beams.best().tokens.empty());
  EXPECT_NEAR(beams.best().score, -0.1, 1e-6);
}

TEST(BeamHypotheses, PatienceWaitsForMoreFinishedHypotheses) {
  UtteranceBeams beams(settings(1.0, 2.0));
  EXPECT_FALSE(beams.advance(kFirst, false));
  EXPECT_FALSE(beams.advance(kSecond, false));  // 3 finished < round(2 * 2)
  // Beams [7, 5] and [8, eos]: the last step finishes every slot.
  EXPECT_TRUE(beams.advance({{-1.5f, 0, 6}, {-1.6f, 1, 3}, {-2.0f, 0, 2}, {-2.1f, 1, 4}}, true));
  const BeamHypothesis best = beams.best();  // [7 5 6]: -1.5 / 3 beats [7]: -0.6 / 1
  EXPECT_EQ(best.tokens, (std::vector<int64_t>{7, 5, 6}));
  EXPECT_FALSE(best.ended);
  EXPECT_NEAR(best.score, -0.5, 1e-6);
}
