#include "data/text/gpt2_split.h"

#include <utf8proc.h>

#include "data/text/unicode_props.h"

namespace medtrain::data::text {
namespace {

enum class Kind { kLetter, kNumber, kSpace, kOther };

Kind kind_of(char32_t c) {
  if (c < 0x80) {
    if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')) return Kind::kLetter;
    if (c >= '0' && c <= '9') return Kind::kNumber;
    return (c == ' ' || (c >= 0x09 && c <= 0x0D)) ? Kind::kSpace : Kind::kOther;
  }
  // is_bert_whitespace is exactly White_Space: 09-0D, 20, 85, A0, 1680, 2000-200A, 2028, 2029, 202F, 205F, 3000.
  if (is_bert_whitespace(c)) return Kind::kSpace;
  switch (utf8proc_category(static_cast<utf8proc_int32_t>(c))) {
    case UTF8PROC_CATEGORY_LU: case UTF8PROC_CATEGORY_LL: case UTF8PROC_CATEGORY_LT:
    case UTF8PROC_CATEGORY_LM: case UTF8PROC_CATEGORY_LO:
      return Kind::kLetter;
    case UTF8PROC_CATEGORY_ND: case UTF8PROC_CATEGORY_NL: case UTF8PROC_CATEGORY_NO:
      return Kind::kNumber;
    default:
      return Kind::kOther;
  }
}

uint32_t run_end(const char32_t* s, uint32_t i, uint32_t n, Kind k) {
  while (i < n && kind_of(s[i]) == k) ++i;
  return i;
}

// 's 't 'm 'd 're 've 'll at s[i] == '\'': the end of the contraction, or 0.
uint32_t contraction_end(const char32_t* s, uint32_t i, uint32_t n) {
  if (i + 1 >= n) return 0;
  const char32_t a = s[i + 1];
  if (a == 's' || a == 't' || a == 'm' || a == 'd') return i + 2;
  if (i + 2 >= n) return 0;
  const char32_t b = s[i + 2];
  return ((a == 'r' || a == 'v') && b == 'e') || (a == 'l' && b == 'l') ? i + 3 : 0;
}

// The end of the match that starts at s[i] (i < n), trying the alternatives in order.
uint32_t match_end(const char32_t* s, uint32_t i, uint32_t n) {
  if (s[i] == '\'') {
    if (const uint32_t e = contraction_end(s, i, n)) return e;
  }
  // " ?\p{L}+", " ?\p{N}+", " ?[^\s\p{L}\p{N}]+": a space joins the run after it.
  if (s[i] == ' ' && i + 1 < n) {
    const Kind next = kind_of(s[i + 1]);
    if (next != Kind::kSpace) return run_end(s, i + 1, n, next);
  }
  const Kind k = kind_of(s[i]);
  if (k != Kind::kSpace) return run_end(s, i, n, k);
  // "\s+(?!\S)": the run, less its last space when a non-space follows (that
  // space then leads the next word); "\s+" when that leaves nothing.
  const uint32_t end = run_end(s, i, n, Kind::kSpace);
  if (end == n || end - 1 == i) return end;
  return end - 1;
}

}  // namespace

void gpt2_split(const char32_t* chars, uint32_t n, std::vector<Span>& words) {
  uint32_t i = 0;
  while (i < n) {
    const uint32_t end = match_end(chars, i, n);
    words.push_back({i, end});
    i = end;
  }
}

}  // namespace medtrain::data::text
