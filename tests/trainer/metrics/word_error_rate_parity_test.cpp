// TranscriptErrors against jiwer 4.0.0 (word_error_rate_reference.py): word and
// character edit counts and reference lengths on 300 random pairs of already-normalised
// text (non-ASCII letters and U+FFFD included, empty texts included), pair by pair and
// summed. The normalisation itself is tested in word_error_rate_test.cpp; here it must
// leave every text unchanged, so jiwer and we count on the same strings.
#include <gtest/gtest.h>

#include <cstdint>
#include <fstream>
#include <string>

#include <nlohmann/json.hpp>

#include "tests/common/python_reference.h"
#include "tests/trainer/metrics/text_metrics_reference.h"
#include "trainer/metrics/word_error_rate.h"

namespace medtrain::metrics {
namespace {

TEST(WordErrorRateParity, MatchesJiwerPairByPair) {
  MEDTRAIN_SKIP_WITHOUT_PYTHON();
  const auto dir = medtrain::testing::python_reference("tests/trainer/metrics/word_error_rate_reference.py");
  const nlohmann::json cases = nlohmann::json::parse(std::ifstream(dir / "cases.json"));
  ASSERT_EQ(cases.size(), 300u);
  TranscriptErrors total;
  int64_t want_word_edits = 0, want_char_edits = 0, want_ref_words = 0, want_ref_chars = 0;
  for (const auto& c : cases) {
    const std::string ref = c.at("ref"), hyp = c.at("hyp");
    ASSERT_EQ(normalize_transcript(ref), ref);
    ASSERT_EQ(normalize_transcript(hyp), hyp);
    TranscriptErrors e;
    e.add(ref, hyp);
    EXPECT_EQ(e.word_edits, c.at("word_edits").get<int64_t>()) << "ref: " << ref << "\nhyp: " << hyp;
    EXPECT_EQ(e.ref_words, c.at("ref_words").get<int64_t>()) << "ref: " << ref;
    EXPECT_EQ(e.char_edits, c.at("char_edits").get<int64_t>()) << "ref: " << ref << "\nhyp: " << hyp;
    EXPECT_EQ(e.ref_chars, c.at("ref_chars").get<int64_t>()) << "ref: " << ref;
    total.merge(e);
    want_word_edits += c.at("word_edits").get<int64_t>();
    want_char_edits += c.at("char_edits").get<int64_t>();
    want_ref_words += c.at("ref_words").get<int64_t>();
    want_ref_chars += c.at("ref_chars").get<int64_t>();
  }
  EXPECT_EQ(total.utterances, 300);
  EXPECT_DOUBLE_EQ(total.wer(), static_cast<double>(want_word_edits) / static_cast<double>(want_ref_words));
  EXPECT_DOUBLE_EQ(total.cer(), static_cast<double>(want_char_edits) / static_cast<double>(want_ref_chars));
}

}  // namespace
}  // namespace medtrain::metrics
