#include "data/deid/report_text.h"

#include <algorithm>
#include <cctype>
#include <utility>

#include "data/text/utf8.h"

namespace medtrain::data::deid {

bool is_report_file(const std::filesystem::path& path) {
  std::string ext = path.extension().string();
  std::transform(ext.begin(), ext.end(), ext.begin(), [](unsigned char c) { return std::tolower(c); });
  return ext == ".txt";
}

std::optional<std::string> invalid_utf8_in_report(const std::string& bytes) {
  const text::DecodedText d = text::decode_utf8_lossy(bytes);
  if (d.replacements == 0) return std::nullopt;
  // A U+FFFD the file spells out itself is valid; the first substituted one is not.
  for (size_t i = 0; i < d.chars.size(); ++i) {
    const size_t at = d.byte_start[i];
    if (d.chars[i] != 0xFFFD || bytes.compare(at, 3, "\xEF\xBF\xBD") == 0) continue;
    const size_t newline = at == 0 ? std::string::npos : bytes.rfind('\n', at - 1);
    const size_t from = newline == std::string::npos ? 0 : newline + 1;
    const auto line = 1 + std::count(bytes.begin(), bytes.begin() + static_cast<std::ptrdiff_t>(at), '\n');
    return "line " + std::to_string(line) + ": invalid UTF-8 at byte offset " + std::to_string(at - from) +
           " of the line (0-based; a report must be UTF-8)";
  }
  return std::nullopt;
}

CleanedReport clean_report(const std::string& text, const TextTagger& tagger) {
  CleanedReport out;
  std::vector<FoundSpan> kept;
  out.text = replace_spans(text, tagger(text), kept);
  if (kept.empty()) return out;
  const text::DecodedText d = text::decode_utf8_lossy(text);
  int64_t line = 1, at = 0;  // the line of code point `at`
  for (auto& s : kept) {
    for (; at < s.start; ++at) line += d.chars[static_cast<size_t>(at)] == U'\n' ? 1 : 0;
    out.replacements.push_back({line, s.start, s.end, std::move(s.label)});
  }
  return out;
}

}  // namespace medtrain::data::deid
