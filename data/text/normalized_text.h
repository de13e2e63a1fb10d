#pragma once
// The text as it moves through the pipeline: normalized code points, each
// remembering the code point of the ORIGINAL input it came from.
//
// Note [Offsets]
// Alignment is recorded from the first stage and never recomputed: every stage
// maps one input code point to zero or more output code points, and each output
// carries `source` = the index of the original code point (in DecodedText::chars).
// A token covering normalized [a, b) therefore spans original code points
// [min source, max source + 1). Code-point offsets are what HF's Python API
// returns for a str; byte offsets into the input bytes come from
// DecodedText::byte_start at no extra cost.
#include <cstdint>
#include <string>
#include <vector>

namespace medtrain::data::text {

struct NormalizedText {
  std::u32string chars;
  std::vector<uint32_t> source;  // same size as chars: index of the original code point

  void push(char32_t c, uint32_t src) {
    chars.push_back(c);
    source.push_back(src);
  }
  void clear() {
    chars.clear();
    source.clear();
  }
  size_t size() const { return chars.size(); }
};

// A half-open range [start, end) of normalized code points.
struct Span {
  uint32_t start = 0;
  uint32_t end = 0;
};

}  // namespace medtrain::data::text
