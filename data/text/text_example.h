#pragma once
// One tokenised report: what a text sample is built from, and what a text
// shard record holds (text_record.h), so training from shards never
// tokenises again and sees exactly what training from the JSONL file sees.
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace medtrain::data::text {

struct TextExample {
  std::string id, patient, split;
  size_t line = 0;              // 1-based manifest line, for messages
  std::vector<int32_t> ids;     // token ids, special tokens included, after truncation
  // By target (text_dataset.h): kClass {class index}; kMultiLabel one 0/1 per
  // label name; kTags one BIO tag per token (bio_tags.h, kIgnoreTag for specials).
  std::vector<int32_t> target;
  bool truncated = false;       // tokens were cut at max_length
  uint32_t spans_cut = 0;       // kTags: spans lost or shortened by the cut
  uint32_t invalid_utf8 = 0;    // replacement characters the tokenizer inserted

  bool operator==(const TextExample& o) const {
    return id == o.id && patient == o.patient && split == o.split && line == o.line && ids == o.ids &&
           target == o.target && truncated == o.truncated && spans_cut == o.spans_cut &&
           invalid_utf8 == o.invalid_utf8;
  }
};

}  // namespace medtrain::data::text
