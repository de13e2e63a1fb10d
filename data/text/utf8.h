#pragma once
// UTF-8 decoding for the text pipeline, with a fixed invalid-input policy.
//
// Note [Invalid UTF-8]
// Text from reports and DICOM tags is not always valid UTF-8. We never reject a
// line for it: each maximal ill-formed subsequence (Unicode 15 §3.9, "U+FFFD
// substitution of maximal subparts", the same rule as Python's
// bytes.decode("utf-8", errors="replace") and the WHATWG decoder) becomes one
// U+FFFD, and the number of substitutions is reported with the result
// (DecodedText::replacements, Encoding::invalid_utf8_replacements) so that a
// caller can count or refuse such lines. Overlong forms, surrogates (ED A0..BF)
// and code points above U+10FFFF are ill-formed. BERT's clean_text then drops
// U+FFFD, so with the usual options a replaced byte yields no token.
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace medtrain::data::text {

struct DecodedText {
  std::u32string chars;              // code points, U+FFFD where the input was ill-formed
  std::vector<uint32_t> byte_start;  // byte offset of chars[i] in the input; size chars.size()+1
  size_t replacements = 0;           // how many U+FFFD were substituted
};

// Decodes `bytes`, substituting U+FFFD as described in Note [Invalid UTF-8].
DecodedText decode_utf8_lossy(std::string_view bytes);

// Appends the UTF-8 encoding of a valid scalar value `c` to `out`.
void append_utf8(std::string& out, char32_t c);

// UTF-8 length of a valid scalar value.
inline int utf8_length(char32_t c) { return c < 0x80 ? 1 : c < 0x800 ? 2 : c < 0x10000 ? 3 : 4; }

}  // namespace medtrain::data::text
