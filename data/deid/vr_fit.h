#pragma once
// Note [Replacements fit the VR]
// The tagger's "[LABEL]" can be longer than what it replaces ("Al" -> "[NAME]"),
// so a cleaned value may outgrow its VR (SH holds 16 characters per value, LO
// 64, ST 1024, LT 10240; CS allows only A-Z, 0-9, space and underscore). An
// output that breaks its VR is refused by strict readers, so the value is made
// to fit, in this order:
//   1. "[LABEL]" (CS: "LABEL");
//   2. the short token "[L]", the label's first letter (CS: "L");
//   3. the value with short tokens, each overlong value cut to the maximum.
// Cutting only drops text after the replacements, so nothing a span covered
// comes back. Lengths are in characters, as PS3.5 6.2 counts them: code points
// when the value is valid UTF-8, bytes otherwise (bytes never undercount).
// Multi-valued VRs are measured per value (backslash-separated).
#include <cstddef>
#include <string>
#include <vector>

#include "data/deid/text_tagger.h"

namespace medtrain::data::deid {

struct VrLimit {
  size_t max_chars = 0;     // per value; 0: no limit (UT, UC, UR, unknown VRs)
  bool multi_valued = false;  // values are separated by '\'
  bool code_string = false;   // CS: upper-case letters, digits, space, underscore
};

// The limits of the VR named `vr` ("SH", "LO", ...).
VrLimit vr_limit(const std::string& vr);

enum class VrFit { kAsIs, kShortTokens, kTruncated };
const char* vr_fit_name(VrFit fit);  // "as_is", "short_tokens", "truncated"

struct FittedText {
  std::string text;
  VrFit fit = VrFit::kAsIs;
};

// `text` with the spans replaced (text_tagger.h's replace_spans) so that the
// result is valid for `vr`, per the Note. `kept` as replace_spans gives it.
FittedText replace_spans_for_vr(const std::string& text, std::vector<FoundSpan> spans, const std::string& vr,
                                std::vector<FoundSpan>& kept);

// The length of `value` in characters, per the Note.
size_t value_chars(const std::string& value);

}  // namespace medtrain::data::deid
