#include "data/text/text_manifest.h"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <limits>
#include <string_view>
#include <unordered_map>

#include "data/data_error.h"
#include "data/io/user_file.h"
#include "data/text/jsonl.h"

namespace medtrain::data::text {
namespace {

using nlohmann::json;

// Code points in valid UTF-8: every byte that is not a continuation byte.
int64_t code_points(const std::string& s) {
  return std::count_if(s.begin(), s.end(), [](char c) { return (static_cast<uint8_t>(c) & 0xC0) != 0x80; });
}

class Reader {
 public:
  explicit Reader(const TextManifestOptions& o) : o_(o), where_(io::display_path(o.path)) {}

  [[noreturn]] void fail(size_t line, const std::string& what) const { jsonl_fail(where_, line, what); }

  TextManifest read() const {
    // Guarded: a FIFO, device or folder fails here instead of blocking or reading forever.
    const std::string data = io::read_user_file(o_.path, "text manifest", io::kMaxManifestBytes);
    TextManifest m;
    m.path = o_.path;
    std::vector<TextRow> all;
    std::unordered_map<std::string, size_t> ids;
    std::unordered_map<std::string, const TextRow*> patient_split;
    for_each_jsonl_line(data, [&](size_t line, std::string_view text) {
      TextRow r = row(text, line, m);
      const auto [it, fresh] = ids.emplace(r.id, line);
      if (!fresh) fail(line, "duplicate id \"" + short_text(r.id) + "\" (first on line " + std::to_string(it->second) + ")");
      all.push_back(std::move(r));
    });
    if (all.empty()) fail(0, "no rows: expected one JSON object per line with at least \"id\" and \"text\"");
    for (const TextRow& r : all) {  // after reading: `all` no longer moves
      if (r.patient.empty() || r.split.empty()) continue;
      const auto [p, first] = patient_split.emplace(r.patient, &r);
      if (!first && p->second->split != r.split) {
        fail(r.line, "patient \"" + short_text(r.patient) + "\" is in split \"" + short_text(r.split) +
                         "\" here but in split \"" + short_text(p->second->split) + "\" on line " +
                         std::to_string(p->second->line) + "; all reports of a patient must be in one split");
      }
    }
    for (TextRow& r : all) {
      if (o_.split.empty() || r.split == o_.split) m.rows.push_back(std::move(r));
    }
    return m;
  }

 private:
  TextRow row(std::string_view text, size_t line, TextManifest& m) const {
    const json j = parse_jsonl_object(text, where_, line);
    TextRow r;
    r.line = line;
    r.id = string_key(j, "id", line, true);
    if (r.id.empty()) fail(line, "empty \"id\"");
    r.text = string_key(j, "text", line, true);
    if (r.text.empty() && !o_.allow_empty_text) fail(line, "empty \"text\" (id \"" + short_text(r.id) + "\")");
    r.patient = string_key(j, "patient", line, false);
    r.split = string_key(j, "split", line, false);
    if (const auto it = j.find("labels"); it != j.end()) {
      m.has_labels = true;
      if (!it->is_array()) fail(line, std::string("\"labels\" must be an array of strings, got ") + it->type_name());
      for (const json& l : *it) {
        if (!l.is_string()) fail(line, std::string("\"labels\" must be an array of strings, got an item ") + l.type_name());
        r.labels.push_back(l.get<std::string>());
        check_label(r.labels.back(), "label", line);
      }
    }
    if (const auto it = j.find("spans"); it != j.end()) {
      m.has_spans = true;
      r.spans = spans(*it, code_points(r.text), line);
    }
    return r;
  }

  std::string string_key(const json& j, const char* key, size_t line, bool required) const {
    return jsonl_string(j, key, required, where_, line);
  }

  void check_label(const std::string& label, const char* what, size_t line) const {
    const auto& names = o_.label_names;
    if (names.empty() || std::find(names.begin(), names.end(), label) != names.end()) return;
    std::string known;
    for (const auto& n : names) known += (known.empty() ? "" : ", ") + n;
    fail(line, std::string(what) + " \"" + short_text(label) + "\" is not a label name (allowed: " + known + ")");
  }

  int64_t offset(const json& span, const char* key, size_t i, size_t line) const {
    const std::string where = "span " + std::to_string(i) + ": \"" + key + "\"";
    const auto it = span.find(key);
    if (it == span.end()) fail(line, where + " is missing");
    if (!it->is_number_integer()) fail(line, where + " must be an integer, got " + it->type_name());
    if (it->is_number_unsigned() && it->get<uint64_t>() > uint64_t(std::numeric_limits<int64_t>::max())) {
      fail(line, where + " is out of range");
    }
    return it->get<int64_t>();
  }

  std::vector<TextSpan> spans(const json& list, int64_t length, size_t line) const {
    if (!list.is_array()) fail(line, std::string("\"spans\" must be an array of objects, got ") + list.type_name());
    std::vector<TextSpan> out;
    for (size_t i = 0; i < list.size(); ++i) {
      const json& s = list[i];
      const std::string where = "span " + std::to_string(i);
      if (!s.is_object()) fail(line, where + " must be an object {\"start\", \"end\", \"label\"}, got " + s.type_name());
      TextSpan t;
      t.start = offset(s, "start", i, line);
      t.end = offset(s, "end", i, line);
      const auto l = s.find("label");
      if (l == s.end() || !l->is_string()) fail(line, where + ": \"label\" must be a string");
      t.label = l->get<std::string>();
      check_label(t.label, (where + " label").c_str(), line);
      const std::string range = " [" + std::to_string(t.start) + ", " + std::to_string(t.end) + ")";
      if (t.start < 0) fail(line, where + range + ": start is negative");
      if (t.end <= t.start) fail(line, where + range + ": end must be greater than start");
      if (t.end > length) {
        fail(line, where + range + ": end is past the text, which has " + std::to_string(length) +
                       " code points (offsets count code points, not bytes)");
      }
      out.push_back(std::move(t));
    }
    std::stable_sort(out.begin(), out.end(), [](const TextSpan& a, const TextSpan& b) { return a.start < b.start; });
    for (size_t i = 1; i < out.size(); ++i) {
      if (out[i].start < out[i - 1].end) {
        fail(line, "spans overlap: [" + std::to_string(out[i - 1].start) + ", " + std::to_string(out[i - 1].end) +
                       ") " + short_text(out[i - 1].label) + " and [" + std::to_string(out[i].start) + ", " +
                       std::to_string(out[i].end) + ") " + short_text(out[i].label));
      }
    }
    return out;
  }

  const TextManifestOptions& o_;
  const std::string where_;
};

}  // namespace

TextManifest read_text_manifest(const TextManifestOptions& options) { return Reader(options).read(); }

}  // namespace medtrain::data::text
