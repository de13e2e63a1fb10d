#pragma once
// GPT-2's pre-tokenization pattern, as HF `tokenizers` runs it (Oniguruma):
//   's|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+
// implemented without a regex engine: every code point is a letter (L*), a
// number (N*), white space (Unicode White_Space, which is Oniguruma's \s) or
// other, and each match is decided by the class of one or two code points and
// a run. Every position starts a match, so the words tile the text.
// Contractions are ASCII and case-sensitive ("DON'T" -> "DON", "'", "T"), as in GPT-2.
#include <cstdint>
#include <vector>

#include "data/text/normalized_text.h"

namespace medtrain::data::text {

// Appends the words of chars[0, n) to `words`, in order, covering all of it.
void gpt2_split(const char32_t* chars, uint32_t n, std::vector<Span>& words);

}  // namespace medtrain::data::text
