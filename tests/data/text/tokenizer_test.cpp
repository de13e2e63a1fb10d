#include "data/text/tokenizer.h"

#include <cstdio>
#include <fstream>

#include <gtest/gtest.h>

#include "data/data_error.h"
#include "tests/data/text/tiny_tokenizer.h"

namespace medtrain::data::text {
namespace {

Tokenizer tiny(const std::string& extra = "") {
  return Tokenizer::from_json_string(testing::tiny_tokenizer_json(extra), "tiny.json");
}

using Ids = std::vector<int32_t>;
using Offsets = std::vector<Offset>;

TEST(Tokenizer, SingleTextIdsMasksAndOffsets) {
  const Encoding e = tiny().encode("The patient has PNEUMONIA.");
  EXPECT_EQ(e.ids, (Ids{2, 5, 6, 7, 8, 9, 10, 12, 3}));
  EXPECT_EQ(e.type_ids, Ids(9, 0));
  EXPECT_EQ(e.attention_mask, Ids(9, 1));
  EXPECT_EQ(e.special_tokens_mask, (Ids{1, 0, 0, 0, 0, 0, 0, 0, 1}));
  EXPECT_EQ(e.offsets, (Offsets{{0, 0}, {0, 3}, {4, 11}, {12, 15}, {16, 20}, {20, 23}, {23, 25},
                                {25, 26}, {0, 0}}));
}

TEST(Tokenizer, OffsetsAreCodePointsAndBytesIntoTheOriginal) {
  const Encoding e = tiny().encode("Café 日", false);  // é is 2 bytes, 日 is 3
  EXPECT_EQ(e.ids, (Ids{14, 15}));
  EXPECT_EQ(e.offsets, (Offsets{{0, 4}, {5, 6}}));
  EXPECT_EQ(e.byte_offsets, (Offsets{{0, 5}, {6, 9}}));
}

TEST(Tokenizer, InvalidUtf8IsReplacedCountedAndDropped) {
  const Encoding e = tiny().encode("no \xE6\x97 the\xFF", false);
  EXPECT_EQ(e.ids, (Ids{11, 5}));
  EXPECT_EQ(e.invalid_utf8_replacements, 2u);
  EXPECT_EQ(e.offsets, (Offsets{{0, 2}, {5, 8}}));       // code points of the U+FFFD-decoded text
  EXPECT_EQ(e.byte_offsets, (Offsets{{0, 2}, {6, 9}}));  // bytes of the input
}

TEST(Tokenizer, SpecialTokensWrittenInTheTextAreMatchedBeforeNormalization) {
  const Encoding e = tiny().encode("the[SEP]x [sep]", false);
  // Matching is case-sensitive: "[sep]" is text, split into [ sep ] (all unknown here).
  EXPECT_EQ(e.ids, (Ids{5, 3, 16, 1, 1, 1}));
  EXPECT_EQ(e.offsets[1], (Offset{3, 8}));
  EXPECT_EQ(e.special_tokens_mask[1], 0);  // as HF: only template specials are marked
}

TEST(Tokenizer, PairTypeIdsAndLongestFirstTruncation) {
  Tokenizer t = tiny();
  const Encoding full = t.encode_pair("the patient has pneumonia", "no pneumonia");
  EXPECT_EQ(full.ids, (Ids{2, 5, 6, 7, 8, 9, 10, 3, 11, 8, 9, 10, 3}));
  EXPECT_EQ(full.type_ids, (Ids{0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 1}));
  EXPECT_EQ(full.offsets[8], (Offset{0, 2}));  // B's offsets are into B

  TruncationOptions trunc;
  trunc.max_length = 8;  // 5 text tokens: A has 6, B 4 -> A 3, B 2
  t.set_truncation(trunc);
  const Encoding cut = t.encode_pair("the patient has pneumonia", "no pneumonia");
  EXPECT_EQ(cut.ids, (Ids{2, 5, 6, 7, 3, 11, 8, 3}));
  EXPECT_EQ(cut.type_ids, (Ids{0, 0, 0, 0, 0, 1, 1, 1}));
  EXPECT_EQ(cut.truncated_tokens, 5u);

  trunc.strategy = TruncationStrategy::kOnlyFirst;  // A loses all 5
  t.set_truncation(trunc);
  EXPECT_EQ(t.encode_pair("the patient has pneumonia", "no pneumonia").ids,
            (Ids{2, 5, 3, 11, 8, 9, 10, 3}));
  trunc.max_length = 6;  // A cannot lose 7 of its 6
  t.set_truncation(trunc);
  EXPECT_THROW(t.encode_pair("the patient has pneumonia", "no pneumonia"), DataError);
}

TEST(Tokenizer, OverflowWindowsWithStride) {
  Tokenizer t = tiny();
  TruncationOptions trunc;
  trunc.max_length = 5;  // 3 text tokens per window
  trunc.stride = 1;
  t.set_truncation(trunc);
  // the patient has pneu ##mon ##ia , no: windows [0,3) [2,5) [4,7) [6,8)
  const Encoding e = t.encode("the patient has pneumonia, no");
  EXPECT_EQ(e.ids, (Ids{2, 5, 6, 7, 3}));
  ASSERT_EQ(e.overflowing.size(), 3u);
  EXPECT_EQ(e.overflowing[0].ids, (Ids{2, 7, 8, 9, 3}));
  EXPECT_EQ(e.overflowing[1].ids, (Ids{2, 9, 10, 13, 3}));
  EXPECT_EQ(e.overflowing[2].ids, (Ids{2, 13, 11, 3}));
}

TEST(Tokenizer, PaddingFixedMultipleAndBatchLongest) {
  Tokenizer t = tiny(R"("padding":{"strategy":{"Fixed":6},"direction":"Right","pad_to_multiple_of":4,"pad_id":0,"pad_type_id":0,"pad_token":"[PAD]"},)");
  const Encoding e = t.encode("no");
  EXPECT_EQ(e.ids, (Ids{2, 11, 3, 0, 0, 0, 0, 0}));  // 6 rounded up to a multiple of 4
  EXPECT_EQ(e.attention_mask, (Ids{1, 1, 1, 0, 0, 0, 0, 0}));
  EXPECT_EQ(e.special_tokens_mask, (Ids{1, 0, 1, 1, 1, 1, 1, 1}));

  PaddingOptions longest;  // fixed_length 0: the batch's longest
  t.set_padding(longest);
  const auto batch = t.encode_batch({"no", "the patient has"});
  EXPECT_EQ(batch[0].ids, (Ids{2, 11, 3, 0, 0}));
  EXPECT_EQ(batch[1].ids, (Ids{2, 5, 6, 7, 3}));
}

TEST(Tokenizer, VocabTxtGivesTheSameEncoding) {
  const std::string path = ::testing::TempDir() + "medtrain_tiny_vocab.txt";
  {
    std::ofstream out(path);
    for (const char* tok : testing::kTinyVocab) out << tok << "\n";
  }
  const Tokenizer from_vocab = Tokenizer::from_vocab_file(path);
  std::remove(path.c_str());
  const std::string text = "The patient [MASK] café, 日 pneumonia.";
  const Encoding a = from_vocab.encode(text);
  const Encoding b = tiny().encode(text);
  EXPECT_EQ(a.ids, b.ids);
  EXPECT_EQ(a.offsets, b.offsets);
}

TEST(Tokenizer, WordPieceDecoderGluesPiecesAndCleansUp) {
  const Tokenizer t = Tokenizer::from_json_string(
      testing::tiny_tokenizer_json(R"("decoder":{"type":"WordPiece","prefix":"##","cleanup":true},)"), "tiny.json");
  const Encoding e = t.encode("The patient has PNEUMONIA.");
  EXPECT_EQ(t.decode(e.ids), "the patient has pneumonia.");
  EXPECT_EQ(t.decode(e.ids, false), "[CLS] the patient has pneumonia. [SEP]");
  EXPECT_EQ(tiny().decode(e.ids), "the patient has pneu ##mon ##ia .");  // no decoder: joined with spaces
}

TEST(Tokenizer, UnsupportedPartsAreRefusedByName) {
  std::string json = testing::tiny_tokenizer_json();
  json.replace(json.find("\"WordPiece\""), 11, "\"Unigram\"");
  try {
    Tokenizer::from_json_string(json, "x.json");
    FAIL() << "a Unigram model was accepted";
  } catch (const DataError& e) {
    EXPECT_NE(std::string(e.what()).find("model.type"), std::string::npos) << e.what();
  }
  EXPECT_THROW(Tokenizer::from_json_file("/nonexistent/tokenizer.json"), DataError);
}

}  // namespace
}  // namespace medtrain::data::text
