#include "data/text/bert_normalizer.h"

#include "data/text/unicode_props.h"

namespace medtrain::data::text {

BertNormalizer::BertNormalizer(BertNormalizerOptions options)
    : options_(options), strip_accents_(options.strip_accents.value_or(options.lowercase)) {}

void BertNormalizer::emit_cased(char32_t c, uint32_t src, NormalizedText& out) const {
  if (!options_.lowercase) {
    out.push(c, src);
    return;
  }
  char32_t lower[2];
  const int n = to_lowercase(c, lower);
  for (int i = 0; i < n; ++i) out.push(lower[i], src);
}

void BertNormalizer::normalize(const char32_t* input, uint32_t begin, uint32_t end,
                               NormalizedText& out) const {
  for (uint32_t i = begin; i < end; ++i) {
    char32_t c = input[i];
    if (c < 0x80 && c > 0x20 && c != 0x7F) {  // fast path: printable ASCII
      out.push(options_.lowercase && c >= 'A' && c <= 'Z' ? c + 32 : c, i);
      continue;
    }
    if (options_.clean_text) {
      if (c == 0 || c == 0xFFFD || is_bert_control(c)) continue;
      if (is_bert_whitespace(c)) c = U' ';
    }
    const bool cjk = options_.handle_chinese_chars && is_cjk_ideograph(c);
    if (cjk) out.push(U' ', i);
    if (strip_accents_) {
      char32_t parts[8];
      const int n = nfd_decompose(c, parts, 8);
      for (int k = 0; k < n; ++k) {
        if (!is_nonspacing_mark(parts[k])) emit_cased(parts[k], i, out);
      }
    } else {
      emit_cased(c, i, out);
    }
    if (cjk) out.push(U' ', i);
  }
}

}  // namespace medtrain::data::text
