#include "data/text/jsonl.h"

#include <algorithm>
#include <cstdint>

#include "data/data_error.h"
#include "data/text/utf8.h"

namespace medtrain::data::text {
namespace {

bool blank(std::string_view s) { return s.find_first_not_of(" \t\r") == std::string_view::npos; }

// Byte offset of the first ill-formed UTF-8 sequence in `bytes`, or npos. A
// U+FFFD written as EF BF BD is valid text, not a substitution.
size_t first_invalid_utf8(std::string_view bytes) {
  const DecodedText d = decode_utf8_lossy(bytes);
  if (d.replacements == 0) return std::string_view::npos;
  for (size_t i = 0; i < d.chars.size(); ++i) {
    if (d.chars[i] != U'\uFFFD') continue;
    const size_t b = d.byte_start[i], e = d.byte_start[i + 1];
    if (bytes.substr(b, e - b) != "\xEF\xBF\xBD") return b;
  }
  return std::string_view::npos;  // unreachable: replacements > 0
}

}  // namespace

void for_each_jsonl_line(std::string_view data, const std::function<void(size_t, std::string_view)>& fn) {
  size_t pos = 0;
  for (size_t line = 1; pos < data.size(); ++line) {
    size_t end = data.find('\n', pos);
    if (end == std::string_view::npos) end = data.size();
    std::string_view text = data.substr(pos, end - pos);
    pos = end + 1;
    if (line == 1 && text.substr(0, 3) == "\xEF\xBB\xBF") text.remove_prefix(3);  // UTF-8 BOM
    if (!text.empty() && text.back() == '\r') text.remove_suffix(1);
    if (!blank(text)) fn(line, text);
  }
}

void jsonl_fail(const std::string& where, size_t line, const std::string& what) {
  throw DataError(where + (line ? ":" + std::to_string(line) : "") + ": " + what);
}

nlohmann::json parse_jsonl_object(std::string_view text, const std::string& where, size_t line) {
  // nlohmann refuses ill-formed UTF-8 too, but without saying where; name the byte.
  const size_t bad = first_invalid_utf8(text);
  if (bad != std::string_view::npos) {
    jsonl_fail(where, line,
               "invalid UTF-8 at byte offset " + std::to_string(bad) + " of the line (0-based; the file must be UTF-8)");
  }
  nlohmann::json j;
  try {
    j = nlohmann::json::parse(text);
  } catch (const nlohmann::json::parse_error& e) {
    jsonl_fail(where, line, "not valid JSON at byte offset " + std::to_string(e.byte > 0 ? e.byte - 1 : 0) +
                                " of the line (expected one JSON object per line)");
  } catch (const nlohmann::json::out_of_range& e) {
    // 406: a number past a double's range (1e400) is well-formed JSON that nlohmann cannot hold.
    const std::string what = e.what();
    jsonl_fail(where, line, "a number out of range (" + what.substr(what.find("] ") + 2) + ")");
  }
  if (!j.is_object()) jsonl_fail(where, line, std::string("expected a JSON object, got ") + j.type_name());
  return j;
}

std::string jsonl_string(const nlohmann::json& j, const char* key, bool required, const std::string& where,
                         size_t line) {
  const auto it = j.find(key);
  if (it == j.end()) {
    if (required) jsonl_fail(where, line, std::string("missing required key \"") + key + "\"");
    return "";
  }
  if (!it->is_string()) jsonl_fail(where, line, std::string("\"") + key + "\" must be a string, got " + it->type_name());
  return it->get<std::string>();
}

std::string short_text(std::string_view s, size_t max) {
  std::string out;
  size_t n = std::min(s.size(), max);
  while (n < s.size() && n > 0 && (static_cast<uint8_t>(s[n]) & 0xC0) == 0x80) --n;
  for (size_t i = 0; i < n; ++i) out += static_cast<uint8_t>(s[i]) < 0x20 ? '?' : s[i];
  return n < s.size() ? out + "..." : out;
}

}  // namespace medtrain::data::text
