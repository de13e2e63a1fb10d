#include "data/deid/text_tagger.h"

#include <algorithm>

#include "data/text/unicode_props.h"
#include "data/text/utf8.h"

namespace medtrain::data::deid {

std::string replace_spans(const std::string& text, std::vector<FoundSpan> spans, std::vector<FoundSpan>& kept) {
  return replace_spans(text, std::move(spans), kept, [](const std::string& label) { return "[" + label + "]"; });
}

namespace {

// A character of a word as the BERT pre-tokenizer cuts words (a CJK ideograph
// is a word of its own).
bool in_word(char32_t c) {
  return !text::is_bert_whitespace(c) && !text::is_bert_punctuation(c) && !text::is_bert_control(c) &&
         !text::is_cjk_ideograph(c);
}

// Note [Whole words]: a tagger labels word pieces, and a span that starts or
// ends inside a word ("Pry|ce") would leave the rest of a name in the output.
// Spans grow to the words they touch: over-redaction, never a partial leak.
void widen_to_words(FoundSpan& s, const std::u32string& chars) {
  const auto n = static_cast<int64_t>(chars.size());
  while (s.start > 0 && in_word(chars[s.start - 1]) && in_word(chars[s.start])) --s.start;
  while (s.end < n && in_word(chars[s.end - 1]) && in_word(chars[s.end])) ++s.end;
}

}  // namespace

std::string replace_spans(const std::string& text, std::vector<FoundSpan> spans, std::vector<FoundSpan>& kept,
                          const SpanToken& token) {
  kept.clear();
  if (spans.empty()) return text;
  const text::DecodedText decoded = text::decode_utf8_lossy(text);
  const auto n = static_cast<int64_t>(decoded.chars.size());
  std::sort(spans.begin(), spans.end(), [](const FoundSpan& a, const FoundSpan& b) {
    return a.start != b.start ? a.start < b.start : a.end > b.end;
  });
  for (FoundSpan& s : spans) {
    s.start = std::clamp<int64_t>(s.start, 0, n);
    s.end = std::clamp<int64_t>(s.end, 0, n);
    if (s.end <= s.start) continue;
    widen_to_words(s, decoded.chars);
    if (!kept.empty() && s.start < kept.back().end) {  // overlap: widen, never leave a covered byte
      kept.back().end = std::max(kept.back().end, s.end);
      continue;
    }
    kept.push_back(std::move(s));
  }
  std::string out = text;
  for (auto it = kept.rbegin(); it != kept.rend(); ++it) {
    const size_t b = decoded.byte_start[static_cast<size_t>(it->start)];
    const size_t e = decoded.byte_start[static_cast<size_t>(it->end)];
    out.replace(b, e - b, token(it->label));
  }
  return out;
}

}  // namespace medtrain::data::deid
