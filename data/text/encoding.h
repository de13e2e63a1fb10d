#pragma once
// The output of the tokenizer for one text or one pair: the arrays a BERT
// encoder takes, plus offsets into the original text (Note [Offsets]).
#include <cstdint>
#include <vector>

namespace medtrain::data::text {

// [start, end) in the original text; (0, 0) for special and padding tokens.
struct Offset {
  uint32_t start = 0;
  uint32_t end = 0;
  bool operator==(const Offset& o) const { return start == o.start && end == o.end; }
};

struct Encoding {
  std::vector<int32_t> ids;
  std::vector<int32_t> type_ids;             // segment: 0 for A, 1 for B (per the template)
  std::vector<int32_t> attention_mask;       // 1 for tokens, 0 for padding
  std::vector<int32_t> special_tokens_mask;  // 1 for template specials and padding
  std::vector<int32_t> sequence_ids;         // 0 (A) or 1 (B) for text tokens, -1 otherwise
  std::vector<Offset> offsets;               // Unicode code points of the token's own sequence
  std::vector<Offset> byte_offsets;          // bytes of the token's own sequence
  size_t invalid_utf8_replacements = 0;      // Note [Invalid UTF-8], summed over A and B
  size_t truncated_tokens = 0;               // text tokens dropped by truncation
  // With truncation and a single sequence, the tokens cut off, as further
  // windows of max_length (overlapping by `stride`), each post-processed and padded.
  std::vector<Encoding> overflowing;

  size_t size() const { return ids.size(); }

  void push(int32_t id, int32_t type_id, int32_t special, int32_t sequence, Offset chars,
            Offset bytes) {
    ids.push_back(id);
    type_ids.push_back(type_id);
    attention_mask.push_back(1);
    special_tokens_mask.push_back(special);
    sequence_ids.push_back(sequence);
    offsets.push_back(chars);
    byte_offsets.push_back(bytes);
  }
};

}  // namespace medtrain::data::text
