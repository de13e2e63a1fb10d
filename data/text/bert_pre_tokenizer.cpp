#include "data/text/bert_pre_tokenizer.h"

#include "data/text/unicode_props.h"

namespace medtrain::data::text {

void BertPreTokenizer::split(const NormalizedText& text, uint32_t begin, uint32_t end,
                             std::vector<Span>& words) const {
  uint32_t word_start = begin;
  bool in_word = false;
  for (uint32_t i = begin; i < end; ++i) {
    const char32_t c = text.chars[i];
    const bool space = c == U' ' || (c > 0x7F || c < 0x20 ? is_bert_whitespace(c) : false);
    const bool punct = !space && is_bert_punctuation(c);
    if (space || punct) {
      if (in_word) words.push_back({word_start, i});
      in_word = false;
      if (punct) words.push_back({i, i + 1});
    } else if (!in_word) {
      in_word = true;
      word_start = i;
    }
  }
  if (in_word) words.push_back({word_start, end});
}

}  // namespace medtrain::data::text
