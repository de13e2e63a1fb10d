#include "data/deid/vr_fit.h"

#include <algorithm>
#include <cctype>
#include <map>

#include "data/text/utf8.h"

namespace medtrain::data::deid {
namespace {

// The CS form of a token: upper case, anything outside A-Z 0-9 space as '_'.
std::string code_string_token(const std::string& token) {
  std::string out;
  for (char c : token) {
    const auto u = static_cast<unsigned char>(c);
    const char up = static_cast<char>(std::toupper(u));
    out.push_back(std::isupper(static_cast<unsigned char>(up)) || std::isdigit(u) || c == ' ' ? up : '_');
  }
  return out;
}

std::string token_for(const std::string& label, bool short_form, bool code_string) {
  const std::string name = short_form ? label.substr(0, 1) : label;
  return code_string ? code_string_token(name) : "[" + name + "]";
}

std::vector<std::string> split_values(const std::string& text, bool multi_valued) {
  std::vector<std::string> values;
  if (!multi_valued) return {text};
  size_t start = 0;
  while (true) {
    const size_t sep = text.find('\\', start);
    values.push_back(text.substr(start, sep == std::string::npos ? std::string::npos : sep - start));
    if (sep == std::string::npos) return values;
    start = sep + 1;
  }
}

bool fits(const std::string& text, const VrLimit& limit) {
  if (limit.max_chars == 0) return true;
  for (const auto& v : split_values(text, limit.multi_valued)) {
    if (value_chars(v) > limit.max_chars) return false;
  }
  return true;
}

// The first `max_chars` characters of `value` (whole code points when UTF-8).
std::string cut(const std::string& value, size_t max_chars) {
  const text::DecodedText d = text::decode_utf8_lossy(value);
  if (d.replacements > 0) return value.substr(0, std::min(value.size(), max_chars));
  if (d.chars.size() <= max_chars) return value;
  return value.substr(0, d.byte_start[max_chars]);
}

}  // namespace

VrLimit vr_limit(const std::string& vr) {
  static const std::map<std::string, VrLimit> limits = {
      {"AE", {16, true, false}},  {"AS", {4, true, false}},    {"CS", {16, true, true}},
      {"DS", {16, true, false}},  {"IS", {12, true, false}},   {"LO", {64, true, false}},
      {"LT", {10240, false, false}}, {"PN", {64, true, false}}, {"SH", {16, true, false}},
      {"ST", {1024, false, false}}, {"UC", {0, true, false}},  {"UR", {0, false, false}},
      {"UT", {0, false, false}},
  };
  const auto it = limits.find(vr);
  return it == limits.end() ? VrLimit{} : it->second;
}

const char* vr_fit_name(VrFit fit) {
  switch (fit) {
    case VrFit::kAsIs: return "as_is";
    case VrFit::kShortTokens: return "short_tokens";
    case VrFit::kTruncated: return "truncated";
  }
  return "as_is";
}

size_t value_chars(const std::string& value) {
  const text::DecodedText d = text::decode_utf8_lossy(value);
  return d.replacements == 0 ? d.chars.size() : value.size();
}

FittedText replace_spans_for_vr(const std::string& text, std::vector<FoundSpan> spans, const std::string& vr,
                                std::vector<FoundSpan>& kept) {
  const VrLimit limit = vr_limit(vr);
  auto replace = [&](bool short_form) {
    return replace_spans(text, spans, kept, [&](const std::string& label) {
      return token_for(label, short_form, limit.code_string);
    });
  };
  FittedText out{replace(false), VrFit::kAsIs};
  if (kept.empty() || fits(out.text, limit)) return out;
  out = {replace(true), VrFit::kShortTokens};
  if (fits(out.text, limit)) return out;
  std::string joined;
  const auto values = split_values(out.text, limit.multi_valued);
  for (size_t i = 0; i < values.size(); ++i) joined += (i ? "\\" : "") + cut(values[i], limit.max_chars);
  return {joined, VrFit::kTruncated};
}

}  // namespace medtrain::data::deid
