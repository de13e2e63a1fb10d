// The text summaries of ImageSummaries: ids decoded with the run's tokenizer
// (the real MiniLM folder: its encode is the reference the decode must
// invert), a table TensorBoard's Markdown cannot be broken by, BIO tags of
// the scored tokens only, and token ids when the tokenizer is unreadable.
#include <gtest/gtest.h>
#include <torch/torch.h>

#include <string>
#include <vector>

#include "data/text/bio_tags.h"
#include "data/text/tokenizer_folder.h"
#include "tests/common/minilm_folder.h"
#include "trainer/engine/text_summary.h"

namespace medtrain::engine {
namespace {

config::Config minilm_config() {
  config::Config cfg;
  cfg.model.pretrained = testing::minilm_dir();
  cfg.data.max_length = 64;
  return cfg;
}

torch::Tensor ids_of(const std::string& text) {
  const auto tok = data::text::load_folder_tokenizer(testing::minilm_dir(), 64);
  const auto enc = tok.encode(text);
  std::vector<int64_t> ids(enc.ids.begin(), enc.ids.end());
  return torch::tensor(ids, torch::kLong);
}

TEST(TextDecoder, DecodesWhatTheTokenizerEncodedWithoutSpecialTokensOrPadding) {
  const TextDecoder decoder(minilm_config());
  EXPECT_TRUE(decoder.note().empty()) << decoder.note();
  auto ids = ids_of("Patient John Smith. Small effusion.");
  ids = torch::cat({ids, torch::zeros({3}, torch::kLong)});  // the batch's padding ([PAD] = 0)
  EXPECT_EQ(decoder.text(ids), "patient john smith. small effusion.");
  EXPECT_EQ(decoder.token(ids[2].item<int64_t>()), "john");
}

TEST(TextDecoder, ShowsIdsWhenTheTokenizerCannotBeRead) {
  config::Config cfg;
  cfg.model.pretrained = "/nonexistent/model";
  const TextDecoder decoder(cfg);
  EXPECT_NE(decoder.note().find("model.pretrained"), std::string::npos) << decoder.note();
  EXPECT_EQ(decoder.text(torch::tensor({101, 7, 102}, torch::kLong)), "101 7 102");
  EXPECT_EQ(decoder.token(7), "7");
}

TEST(TextTable, IsOneRowPerExampleAndCellsCannotBreakIt) {
  const std::string md = text_table({{"a | b\nc `d`", "x", "y"}, {"plain", "t", "p"}}, true);
  EXPECT_EQ(md,
            "| # | text | target | predicted |\n|---|---|---|---|\n"
            "| 1 | a \\| b c 'd' | x | y |\n"
            "| 2 | plain | t | p |\n");
  EXPECT_EQ(text_table({{"t", "x", ""}}, false), "| # | text | target |\n|---|---|---|\n| 1 | t | x |\n");
  const std::string long_text(1000, 'a');
  const std::string cut = text_table({{long_text, "", ""}}, false);
  EXPECT_NE(cut.find(std::string(400, 'a') + " ..."), std::string::npos);
  EXPECT_EQ(cut.find(std::string(401, 'a')), std::string::npos);
}

TEST(TaggedTokens, NameTheScoredTokensTaggedOtherThanO) {
  config::Config cfg;
  cfg.model.pretrained = "/nonexistent/model";  // ids as tokens: the test is about the tags
  const TextDecoder decoder(cfg);
  const auto names = data::text::bio_tag_names({"NAME", "DATE"});  // O B-NAME I-NAME B-DATE I-DATE
  const auto ids = torch::tensor({101, 11, 12, 13, 102}, torch::kLong);
  const auto gold = torch::tensor({-100, 1, 2, 0, -100}, torch::kLong);
  EXPECT_EQ(tagged_tokens(decoder, ids, gold, names), "11 (B-NAME), 12 (I-NAME)");
  // Predictions: the special tokens' tags are not scored, so not shown.
  const auto pred = torch::tensor({3, 1, 0, 4, 3}, torch::kLong);
  EXPECT_EQ(tagged_tokens(decoder, ids, pred, names, gold), "11 (B-NAME), 13 (I-DATE)");
  EXPECT_EQ(tagged_tokens(decoder, ids, torch::zeros({5}, torch::kLong), names, gold), "none");
}

}  // namespace
}  // namespace medtrain::engine
