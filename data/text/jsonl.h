#pragma once
// What every JSONL manifest reader shares (reports: text_manifest.h;
// dictation: data/audio/speech_dataset.h): the lines of the file, each parsed
// as one JSON object, string keys, and errors "<path>:<line>: <what>" that name
// the byte of bad UTF-8 or JSON. Thread-safe; no state.
#include <nlohmann/json.hpp>

#include <cstddef>
#include <functional>
#include <string>
#include <string_view>

namespace medtrain::data::text {

// Calls fn(line, text) for each line of `data` that is not blank (1-based line
// numbers); a UTF-8 BOM before line 1 and a CR before each LF are dropped.
void for_each_jsonl_line(std::string_view data, const std::function<void(size_t, std::string_view)>& fn);

// Throws DataError("<where>:<line>: <what>"); line 0 leaves the line out.
[[noreturn]] void jsonl_fail(const std::string& where, size_t line, const std::string& what);

// One line as a JSON object. DataError naming the byte offset in the line of
// invalid UTF-8 or of a JSON syntax error; or when it is not an object.
nlohmann::json parse_jsonl_object(std::string_view text, const std::string& where, size_t line);

// j[key] as a string; "" when absent and not required. DataError when absent
// and required, or not a string.
std::string jsonl_string(const nlohmann::json& j, const char* key, bool required, const std::string& where,
                         size_t line);

// At most `max` bytes of `s` for a message, cut at a code-point boundary,
// control characters as '?'.
std::string short_text(std::string_view s, size_t max = 80);

}  // namespace medtrain::data::text
