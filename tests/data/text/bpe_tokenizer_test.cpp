// The Tokenizer with a byte-level BPE tokenizer.json (Whisper's layout):
// encoding, special tokens, decoding, vocabulary.txt, and refused files.
#include <cstdio>
#include <fstream>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "data/data_error.h"
#include "data/text/tokenizer.h"
#include "tests/data/text/tiny_bpe_tokenizer.h"

namespace medtrain::data::text {
namespace {

using Ids = std::vector<int32_t>;
using Offsets = std::vector<Offset>;

Tokenizer tiny(const nlohmann::json& j = testing::tiny_bpe_json()) {
  return Tokenizer::from_json_string(j.dump(), "tiny.json");
}

// The DataError message of loading `j`, or "" when it loads.
std::string load_error(const nlohmann::json& j) {
  try {
    tiny(j);
  } catch (const DataError& e) {
    return e.what();
  }
  return "";
}

TEST(BpeTokenizer, EncodesWithTheTemplateAndOffsets) {
  const Tokenizer t = tiny();
  const Encoding e = t.encode("the the't");
  EXPECT_EQ(e.ids, (Ids{262, 259, 258, 260, 261}));
  EXPECT_EQ(e.special_tokens_mask, (Ids{1, 0, 0, 0, 1}));
  EXPECT_EQ(e.offsets, (Offsets{{0, 0}, {0, 3}, {3, 7}, {7, 9}, {0, 0}}));
  const Encoding accent = t.encode("é", false);  // two byte tokens, each spanning the character
  EXPECT_EQ(accent.ids, (Ids{0xC3, 0xA9}));
  EXPECT_EQ(accent.offsets, (Offsets{{0, 1}, {0, 1}}));
  EXPECT_EQ(accent.byte_offsets, (Offsets{{0, 2}, {0, 2}}));
  EXPECT_EQ(t.vocab_size(), 263u);
  EXPECT_EQ(t.token_to_id("<|endoftext|>"), 261);
  EXPECT_EQ(t.token_to_id("\u0120the"), 258);
}

TEST(BpeTokenizer, SpecialTokensInTheTextAndDecoding) {
  const Tokenizer t = tiny();
  const Encoding e = t.encode("the<|endoftext|>the");
  EXPECT_EQ(e.ids, (Ids{262, 259, 261, 259, 261}));
  EXPECT_EQ(t.decode(e.ids), "thethe");
  EXPECT_EQ(t.decode(e.ids, false), "<|startoftranscript|>the<|endoftext|>the<|endoftext|>");
  EXPECT_EQ(t.decode({259, 99999, -1, 258}), "the the");  // ids that name nothing are dropped
  EXPECT_EQ(t.decode({0xF0, 0x9F}), "\uFFFD");           // a cut character
  const std::string text = "  Don't\n\tstop 日本 😀 e\u0301\r\n";
  EXPECT_EQ(t.decode(t.encode(text).ids), text);
}

TEST(BpeTokenizer, InvalidUtf8IsReplacedAndCounted) {
  const Encoding e = tiny().encode("a\xFFthe", false);
  EXPECT_EQ(e.invalid_utf8_replacements, 1u);
  EXPECT_EQ(tiny().decode(e.ids), "a\uFFFDthe");
}

TEST(BpeTokenizer, MergesMayBeWrittenAsPairs) {
  nlohmann::json j = testing::tiny_bpe_json();
  for (auto& m : j["model"]["merges"]) {
    const std::string s = m.get<std::string>();
    m = nlohmann::json::array({s.substr(0, s.find(' ')), s.substr(s.find(' ') + 1)});
  }
  EXPECT_EQ(tiny(j).encode("the the't").ids, tiny().encode("the the't").ids);
}

std::string write_temp(const std::string& name, const std::string& text) {
  const std::string path = ::testing::TempDir() + name;
  std::ofstream(path, std::ios::binary) << text;
  return path;
}

std::string vocabulary_txt(const Tokenizer& t, size_t n) {
  std::string out;
  for (size_t id = 0; id < n; ++id) out += t.id_to_token(static_cast<int32_t>(id)) + "\n";
  return out;
}

TEST(BpeTokenizer, VocabularyTxtAddsTimestampsAsSpecialTokens) {
  Tokenizer t = tiny();
  const std::string path = write_temp("medtrain_tiny_vocabulary.txt", vocabulary_txt(t, 263) + "<|0.00|>\n<|0.02|>\n");
  t.add_vocabulary_file(path);
  std::remove(path.c_str());
  EXPECT_EQ(t.vocab_size(), 265u);
  const Encoding e = t.encode("<|0.00|>the<|0.02|>");
  EXPECT_EQ(e.ids, (Ids{262, 263, 259, 264, 261}));
  EXPECT_EQ(t.decode(e.ids), "the");
  EXPECT_EQ(t.decode(e.ids, false), "<|startoftranscript|><|0.00|>the<|0.02|><|endoftext|>");
}

TEST(BpeTokenizer, VocabularyTxtOfAnotherModelIsRefusedWithItsLine) {
  Tokenizer t = tiny();
  std::string text = vocabulary_txt(t, 263);
  text.replace(text.find("\u0120the\n"), 5, "xthe\n");
  const std::string path = write_temp("medtrain_bad_vocabulary.txt", text);
  try {
    t.add_vocabulary_file(path);
    FAIL() << "accepted";
  } catch (const DataError& e) {
    EXPECT_NE(std::string(e.what()).find(path + ":259: id 258"), std::string::npos) << e.what();
  }
  std::remove(path.c_str());
  EXPECT_THROW(t.add_vocabulary_file("/nonexistent/vocabulary.txt"), DataError);
}

TEST(BpeTokenizer, BrokenFilesAreOneErrorNamingFileAndField) {
  const auto expect = [](nlohmann::json j, const std::string& needle) {
    const std::string what = load_error(j);
    EXPECT_EQ(what.rfind("tiny.json: ", 0), 0u) << what;
    EXPECT_NE(what.find(needle), std::string::npos) << what;
    EXPECT_EQ(what.find('\n'), std::string::npos) << what;
  };
  nlohmann::json j = testing::tiny_bpe_json();
  j["model"]["merges"][1] = "h e x";
  expect(j, "model.merges[1]: expected \"left right\"");
  j["model"]["merges"][1] = "he";
  expect(j, "model.merges[1]");
  j["model"]["merges"][1] = 5;
  expect(j, "model.merges[1]");
  j = testing::tiny_bpe_json();
  j["model"]["merges"] = "Ġ t";
  expect(j, "model.merges");
  j = testing::tiny_bpe_json();
  j["model"]["vocab"].erase("he");  // merge 1 makes a token the vocabulary lacks
  expect(j, "merge 1 (\"h e\"): \"he\" is not in the vocabulary");
  j = testing::tiny_bpe_json();
  j["model"]["type"] = "Unigram";
  expect(j, "model.type: \"Unigram\" is not supported");
  j = testing::tiny_bpe_json();
  j["model"]["dropout"] = 0.1;
  expect(j, "model.dropout");
  j = testing::tiny_bpe_json();
  j["pre_tokenizer"]["type"] = "Metaspace";
  expect(j, "pre_tokenizer.type: \"Metaspace\"");
  j = testing::tiny_bpe_json();
  j["model"].erase("merges");
  expect(j, "unexpected tokenizer.json layout");
}

TEST(BpeTokenizer, RobertaProcessingWrapsAndTrimsSpacesFromOffsets) {
  nlohmann::json j = testing::tiny_bpe_json();
  j["pre_tokenizer"]["add_prefix_space"] = true;
  j["post_processor"] = {{"type", "RobertaProcessing"}, {"sep", {"<|endoftext|>", 261}},
                         {"cls", {"<|startoftranscript|>", 262}}, {"trim_offsets", true},
                         {"add_prefix_space", true}};
  const Tokenizer t = tiny(j);
  const Encoding e = t.encode("the the");
  EXPECT_EQ(e.ids, (Ids{262, 258, 258, 261}));  // both words are " the": the first gets a prefix space
  // The added space is kept (it maps to 't'); the second word's own space is trimmed.
  EXPECT_EQ(e.offsets, (Offsets{{0, 0}, {0, 3}, {4, 7}, {0, 0}}));
  EXPECT_EQ(e.byte_offsets, (Offsets{{0, 0}, {0, 3}, {4, 7}, {0, 0}}));
  const Encoding pair = t.encode_pair("the", "the");
  EXPECT_EQ(pair.ids, (Ids{262, 258, 261, 261, 258, 261}));
  EXPECT_EQ(pair.type_ids, Ids(6, 0));
  j["post_processor"]["trim_offsets"] = false;
  EXPECT_EQ(tiny(j).encode("the the").offsets[2], (Offset{3, 7}));
}

TEST(BpeTokenizer, AnUnsupportedDecoderEncodesButRefusesToDecode) {
  nlohmann::json j = testing::tiny_bpe_json();
  j["decoder"] = {{"type", "Metaspace"}};
  const Tokenizer t = tiny(j);
  EXPECT_EQ(t.encode("the", false).ids, Ids{259});
  try {
    t.decode({259});
    FAIL() << "decoded";
  } catch (const DataError& e) {
    EXPECT_NE(std::string(e.what()).find("\"Metaspace\""), std::string::npos) << e.what();
  }
}

}  // namespace
}  // namespace medtrain::data::text
