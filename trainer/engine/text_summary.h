#pragma once
// Text tasks' half of ImageSummaries (image_summaries.h): examples as a
// Markdown table for TensorBoard's text dashboard, the token ids decoded with
// the tokenizer the training data was tokenised with (model.pretrained).
#include <torch/types.h>

#include <memory>
#include <string>
#include <vector>

#include "data/text/tokenizer.h"
#include "trainer/config/config.h"

namespace medtrain::engine {

// Token ids back to words. When the tokenizer cannot be read (it could when
// the data opened, so rarely), the ids themselves are shown, and `note()` says
// why once.
class TextDecoder {
 public:
  explicit TextDecoder(const config::Config& cfg);
  // ids int64 [L] (padding and special tokens dropped when decoding).
  std::string text(const torch::Tensor& ids) const;
  std::string token(int64_t id) const;
  const std::string& note() const { return note_; }

 private:
  std::unique_ptr<data::text::Tokenizer> tokenizer_;
  std::string note_;
};

struct TextRow {
  std::string text, target, predicted;
};

// | # | text | target | (predicted |) with the cells made safe for a table
// cell (no '|', no line breaks) and texts cut at 400 characters.
std::string text_table(const std::vector<TextRow>& rows, bool with_prediction);

// Token tagging: the tokens whose tag is not O, as "token (B-TYPE)" joined by
// ", " ("none" when all are O). tags: int64 [L] (kIgnoreTag tokens skipped,
// and those where `scored`, when given, is kIgnoreTag), `names` = bio_tag_names.
std::string tagged_tokens(const TextDecoder& decoder, const torch::Tensor& ids, const torch::Tensor& tags,
                          const std::vector<std::string>& names, const torch::Tensor& scored = {});

}  // namespace medtrain::engine
