#pragma once
// Stage 2 for byte-level BPE (GPT-2, RoBERTa, Whisper): HF
// `pre_tokenizers::ByteLevel`. Optionally prepends a space (add_prefix_space,
// when the text does not already start with one), splits with GPT-2's pattern
// (gpt2_split.h; use_regex=false keeps the text as one word), and rewrites each
// word's UTF-8 bytes in the byte alphabet (byte_level.h). Every byte's code
// point keeps the source of the character it came from (Note [Offsets]), so a
// token holding part of a character spans that whole character, as in HF.
#include <vector>

#include "data/text/normalized_text.h"

namespace medtrain::data::text {

struct ByteLevelOptions {
  bool add_prefix_space = false;
  bool use_regex = true;
};

class ByteLevelPreTokenizer {
 public:
  explicit ByteLevelPreTokenizer(ByteLevelOptions options = {}) : options_(options) {}

  // Rewrites text[begin, size()) in the byte alphabet and appends its words
  // (spans of the rewritten text) to `words`.
  void pre_tokenize(NormalizedText& text, uint32_t begin, std::vector<Span>& words) const;

  const ByteLevelOptions& options() const { return options_; }

 private:
  ByteLevelOptions options_;
};

}  // namespace medtrain::data::text
