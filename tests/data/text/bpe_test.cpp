#include "data/text/bpe.h"

#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "data/data_error.h"

namespace medtrain::data::text {
namespace {

using Ids = std::vector<int32_t>;
using Merges = std::vector<std::pair<std::string, std::string>>;

const std::unordered_map<std::string, int32_t> kVocab = {
    {"a", 0}, {"b", 1}, {"c", 2}, {"ab", 3}, {"bc", 4}, {"abc", 5}, {"aa", 6}, {"<unk>", 7}};

Ids ids(const Bpe& m, const std::u32string& word, std::vector<Span>* spans = nullptr) {
  NormalizedText t;
  for (uint32_t i = 0; i < word.size(); ++i) t.push(word[i], i);
  std::vector<Piece> pieces;
  m.tokenize(t, {0, static_cast<uint32_t>(word.size())}, pieces);
  Ids out;
  for (const Piece& p : pieces) {
    out.push_back(p.id);
    if (spans) spans->push_back(p.span);
  }
  return out;
}

TEST(Bpe, LowestRankFirstThenLeftmost) {
  const Bpe m(kVocab, {{"a", "b"}, {"b", "c"}, {"ab", "c"}, {"a", "a"}}, {});
  EXPECT_EQ(m.merge_count(), 4u);
  EXPECT_EQ(ids(m, U"abc"), (Ids{5}));     // ab (rank 0) before bc (rank 1), then ab+c
  EXPECT_EQ(ids(m, U"bcab"), (Ids{4, 3}));  // ab, then bc; "bc ab" is no merge
  EXPECT_EQ(ids(m, U"aab"), (Ids{0, 3}));   // a+b outranks a+a
  EXPECT_EQ(ids(m, U"aaa"), (Ids{6, 0}));   // equal ranks: the leftmost pair first
  std::vector<Span> spans;
  EXPECT_EQ(ids(m, U"cab", &spans), (Ids{2, 3}));
  EXPECT_EQ(spans[1].start, 1u);
  EXPECT_EQ(spans[1].end, 3u);
  EXPECT_EQ(ids(m, U""), Ids{});
}

TEST(Bpe, UnknownCharactersAreDroppedWithoutUnkTokenAndFusedWithFuseUnk) {
  const Merges merges{{"a", "b"}};
  EXPECT_EQ(ids(Bpe(kVocab, merges, {}), U"axyb"), (Ids{3}));  // as HF: a and b become neighbours
  BpeOptions o;
  o.unk_token = "<unk>";
  EXPECT_EQ(ids(Bpe(kVocab, merges, o), U"axyb"), (Ids{0, 7, 7, 1}));
  o.fuse_unk = true;
  std::vector<Span> spans;
  EXPECT_EQ(ids(Bpe(kVocab, merges, o), U"axyb", &spans), (Ids{0, 7, 1}));
  EXPECT_EQ(spans[1].start, 1u);
  EXPECT_EQ(spans[1].end, 3u);
}

TEST(Bpe, IgnoreMergesTakesAWholeVocabularyWord) {
  BpeOptions o;
  o.ignore_merges = true;
  EXPECT_EQ(ids(Bpe(kVocab, {}, o), U"abc"), (Ids{5}));
  EXPECT_EQ(ids(Bpe(kVocab, {}, {}), U"abc"), (Ids{0, 1, 2}));
}

TEST(Bpe, VocabAndMergesThatDisagreeAreRefused) {
  try {
    Bpe(kVocab, {{"a", "b"}, {"c", "c"}}, {});  // "cc" is not in the vocabulary
    FAIL() << "accepted";
  } catch (const DataError& e) {
    EXPECT_NE(std::string(e.what()).find("merge 1 (\"c c\"): \"cc\""), std::string::npos) << e.what();
  }
  EXPECT_THROW(Bpe(kVocab, {{"a", "z"}}, {}), DataError);  // a side that is not in the vocabulary
  BpeOptions o;
  o.unk_token = "[UNK]";
  EXPECT_THROW(Bpe(kVocab, {}, o), DataError);
}

}  // namespace
}  // namespace medtrain::data::text
