#pragma once
// Stage 0: added tokens (HF `AddedVocabulary`). Tokens such as [CLS] or [SEP]
// written in the input text are matched on the original text, before
// normalization, leftmost-longest and case-sensitively, and become their own
// id; the text between them goes through the pipeline. Only the form BERT
// tokenizers use is supported (normalized=false, no lstrip/rstrip/single_word);
// the loader refuses others with a message.
#include <cstdint>
#include <string>
#include <vector>

namespace medtrain::data::text {

struct AddedToken {
  std::u32string content;
  int32_t id;
};

// A piece of the original text: [begin, end) code points; id >= 0 when it is an added token.
struct Segment {
  uint32_t begin;
  uint32_t end;
  int32_t id;
};

class AddedVocabulary {
 public:
  void add(std::u32string content, int32_t id);
  // Splits chars[0, n) into segments (text, and added tokens with their id).
  void split(const char32_t* chars, uint32_t n, std::vector<Segment>& out) const;
  bool empty() const { return tokens_.empty(); }

 private:
  std::vector<AddedToken> tokens_;
};

}  // namespace medtrain::data::text
