#include "data/text/wordpiece.h"

#include <gtest/gtest.h>

#include "data/data_error.h"
#include "tests/data/text/tiny_tokenizer.h"

namespace medtrain::data::text {
namespace {

WordPiece tiny_model() {
  std::unordered_map<std::string, int32_t> vocab;
  int32_t id = 0;
  for (const char* t : testing::kTinyVocab) vocab[t] = id++;
  return WordPiece(vocab, {});
}

std::vector<Piece> pieces(const WordPiece& m, const std::u32string& word) {
  NormalizedText t;
  for (uint32_t i = 0; i < word.size(); ++i) t.push(word[i], i);
  std::vector<Piece> out;
  m.tokenize(t, {0, static_cast<uint32_t>(word.size())}, out);
  return out;
}

TEST(WordPiece, GreedyLongestMatchWithContinuations) {
  const auto p = pieces(tiny_model(), U"pneumonia");
  ASSERT_EQ(p.size(), 3u);
  EXPECT_EQ(p[0].id, 8);   // pneu
  EXPECT_EQ(p[1].id, 9);   // ##mon
  EXPECT_EQ(p[2].id, 10);  // ##ia
  EXPECT_EQ(p[1].span.start, 4u);
  EXPECT_EQ(p[1].span.end, 7u);
  EXPECT_EQ(p[2].span.end, 9u);
}

TEST(WordPiece, UncoverableWordIsOneUnkOverTheWord) {
  const auto p = pieces(tiny_model(), U"pneuz");
  ASSERT_EQ(p.size(), 1u);
  EXPECT_EQ(p[0].id, 1);
  EXPECT_EQ(p[0].span.end, 5u);
}

TEST(WordPiece, WordsOverMaxCharsAreUnk) {
  const WordPiece m = tiny_model();
  EXPECT_EQ(pieces(m, std::u32string(100, U'x')).size(), 100u);  // x ##x ##x ...
  const auto p = pieces(m, std::u32string(101, U'x'));
  ASSERT_EQ(p.size(), 1u);
  EXPECT_EQ(p[0].id, 1);
  EXPECT_EQ(p[0].span.end, 101u);
}

TEST(WordPiece, MissingUnkTokenIsAnError) {
  EXPECT_THROW(WordPiece({{"a", 0}}, {}), DataError);
}

}  // namespace
}  // namespace medtrain::data::text
