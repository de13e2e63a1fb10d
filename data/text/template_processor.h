#pragma once
// Stage 4: post-processing (HF `processors::TemplateProcessing`, and
// `BertProcessing` expressed as the same template): wraps the encoded
// sequence(s) in special tokens, e.g. [CLS] A [SEP] and [CLS] A [SEP] B [SEP],
// and assigns type ids. Special tokens get offsets (0, 0) and
// special_tokens_mask 1.
#include <string>
#include <vector>

#include "data/text/encoding.h"

namespace medtrain::data::text {

struct TemplatePiece {
  bool is_sequence = false;  // true: sequence A (0) or B (1); false: special token
  int sequence = 0;
  std::vector<int32_t> special_ids;  // the ids of a special token (usually one)
  int32_t type_id = 0;
};

class TemplateProcessor {
 public:
  TemplateProcessor() = default;  // no template: sequences pass through (pair: A then B)
  TemplateProcessor(std::vector<TemplatePiece> single, std::vector<TemplatePiece> pair);

  // How many special tokens the template adds (for truncation's budget).
  size_t added_tokens(bool pair) const;
  // Builds the final encoding from the (already truncated) sequence encodings.
  Encoding apply(Encoding a, const Encoding* b) const;

 private:
  std::vector<TemplatePiece> single_;
  std::vector<TemplatePiece> pair_;
  bool has_template_ = false;
};

}  // namespace medtrain::data::text
