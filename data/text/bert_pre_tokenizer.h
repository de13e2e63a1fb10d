#pragma once
// Stage 2: BertPreTokenizer (HF `pre_tokenizers::BertPreTokenizer`): split the
// normalized text on whitespace (removed) and on BERT punctuation (each
// punctuation code point its own word). Words are ranges of the normalized
// text, so Note [Offsets] carries through unchanged.
#include <vector>

#include "data/text/normalized_text.h"

namespace medtrain::data::text {

class BertPreTokenizer {
 public:
  // Appends the words of text[begin, end) to `words`.
  void split(const NormalizedText& text, uint32_t begin, uint32_t end,
             std::vector<Span>& words) const;
};

}  // namespace medtrain::data::text
