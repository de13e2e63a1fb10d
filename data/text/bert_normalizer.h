#pragma once
// Stage 1: BertNormalizer (HF `normalizers::BertNormalizer`).
// clean_text removes NUL, U+FFFD and controls and turns whitespace into ' ';
// handle_chinese_chars puts ' ' around CJK ideographs; strip_accents is NFD
// followed by removal of Mn marks (unset = follow `lowercase`); lowercase is
// the full Unicode lower-case mapping. Every stage is a per-code-point map, so
// they run fused in one pass, in HF's order, keeping Note [Offsets].
#include <optional>

#include "data/text/normalized_text.h"

namespace medtrain::data::text {

struct BertNormalizerOptions {
  bool clean_text = true;
  bool handle_chinese_chars = true;
  std::optional<bool> strip_accents;  // nullopt: strip when lowercasing (HF's null)
  bool lowercase = true;
};

class BertNormalizer {
 public:
  explicit BertNormalizer(BertNormalizerOptions options = {});

  // Appends the normalization of original code points input[begin, end) to `out`;
  // `begin` is the index of input[begin] in the original text (for `source`).
  void normalize(const char32_t* input, uint32_t begin, uint32_t end, NormalizedText& out) const;

  const BertNormalizerOptions& options() const { return options_; }

 private:
  void emit_cased(char32_t c, uint32_t src, NormalizedText& out) const;

  BertNormalizerOptions options_;
  bool strip_accents_;
};

}  // namespace medtrain::data::text
