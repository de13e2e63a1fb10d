#pragma once
// Stage 0: added tokens (HF `AddedVocabulary`). Tokens such as [CLS] or
// <|endoftext|> written in the input text are matched on the original text,
// before normalization, leftmost-longest and case-sensitively, and become their
// own id; the text between them goes through the pipeline. Only the form BERT
// and Whisper tokenizers use is supported (normalized=false, no
// lstrip/rstrip/single_word); the loader refuses others with a message.
// Matching walks a trie, so thousands of tokens (Whisper's 1,501 timestamps)
// cost one step per matched character.
#include <cstdint>
#include <string>
#include <unordered_map>
#include <vector>

namespace medtrain::data::text {

// A piece of the original text: [begin, end) code points; id >= 0 when it is an added token.
struct Segment {
  uint32_t begin;
  uint32_t end;
  int32_t id;
};

class AddedVocabulary {
 public:
  AddedVocabulary();
  // `special` tokens are dropped by decode(skip_special_tokens). A content added
  // twice keeps the later id, as HF.
  void add(const std::u32string& content, int32_t id, bool special);
  // Splits chars[0, n) into segments (text, and added tokens with their id).
  void split(const char32_t* chars, uint32_t n, std::vector<Segment>& out) const;
  bool empty() const { return nodes_.size() == 1; }
  bool is_special(int32_t id) const;

 private:
  struct Node {
    std::unordered_map<char32_t, uint32_t> next;
    int32_t id = -1;  // >= 0: a token ends here
  };
  // The id and length of the longest token starting at chars[i], or id -1.
  std::pair<int32_t, uint32_t> longest_at(const char32_t* chars, uint32_t i, uint32_t n) const;

  std::vector<Node> nodes_;  // nodes_[0] is the root
  std::vector<int32_t> special_ids_;  // sorted
};

}  // namespace medtrain::data::text
