#pragma once
// A PHI tagger for the free text the profile cleans ("C" on a text VR): a
// callback that returns the spans of protected information in one value. The
// deidentifier replaces each span with "[LABEL]" after the rule-based scrub
// (text_scrub.h). data/ only sees this callback: the model behind it (a
// trained text bundle, `medtrain deid --text-model`) lives in trainer/, which
// data/ never includes.
//
// Thread safety: the deid workers call the same tagger concurrently; the
// callback must be safe for that (serialize inside it if the model is not).
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

namespace medtrain::data::deid {

struct FoundSpan {
  int64_t start = 0, end = 0;  // Unicode code points of the text, [start, end)
  std::string label;           // e.g. "NAME"
};

using TextTagger = std::function<std::vector<FoundSpan>(const std::string& text)>;

// One span the tagger replaced, as the audit records it: the tag and the
// code-point offsets in the value it was given (after the rule-based scrub),
// never the text.
struct TextReplacement {
  std::string tag;  // "(gggg,eeee)"
  int64_t start = 0, end = 0;
  std::string label;
};

// `text` (UTF-8; ill-formed bytes count as code points the way
// data/text/utf8.h decodes them, as the tokenizer does) with each span replaced
// by "[LABEL]". Spans are clipped to the text, widened to whole words (a
// span inside "Pryce" takes all of it: Note [Whole words]), empty ones ignored, and
// overlapping ones merged (the first one's label): nothing a span covers
// survives. `kept` receives the spans replaced, in text order. Replacement runs
// from the last span backwards, so earlier byte offsets stay valid.
std::string replace_spans(const std::string& text, std::vector<FoundSpan> spans, std::vector<FoundSpan>& kept);

// The same with the replacement of each span chosen by `token` (given the
// label): vr_fit.h uses it for VRs too short for "[LABEL]".
using SpanToken = std::function<std::string(const std::string& label)>;
std::string replace_spans(const std::string& text, std::vector<FoundSpan> spans, std::vector<FoundSpan>& kept,
                          const SpanToken& token);

}  // namespace medtrain::data::deid
