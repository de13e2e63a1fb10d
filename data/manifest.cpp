#include "data/manifest.h"

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <map>
#include <sstream>
#include <unordered_map>

#include "data/data_error.h"
#include "data/dicom/multiframe_probe.h"
#include "data/io/user_file.h"

namespace fs = std::filesystem;

namespace medtrain::data {
namespace {

std::string trim(const std::string& s) {
  const size_t b = s.find_first_not_of(" \t");
  if (b == std::string::npos) return "";
  return s.substr(b, s.find_last_not_of(" \t") - b + 1);
}

struct Columns {
  size_t count = 0;
  long path = -1, label = -1, labels = -1, mask = -1, patient = -1, split = -1;
};

class Reader {
 public:
  explicit Reader(const ManifestOptions& o) : o_(o) {}

  [[noreturn]] void fail(size_t line, const std::string& what) const {
    throw DataError(io::display_path(o_.manifest_path) + (line ? ":" + std::to_string(line) : "") + ": " + what);
  }

  std::vector<std::string> fields(const std::string& text, size_t line) const {
    try {
      return split_csv_line(text);
    } catch (const DataError& e) {
      fail(line, e.what());
    }
  }

  Columns header(const std::string& text, size_t line) const {
    Columns c;
    const std::vector<std::string> names = fields(text, line);
    c.count = names.size();
    for (size_t i = 0; i < names.size(); ++i) {
      const long idx = static_cast<long>(i);
      if (names[i] == "path") c.path = idx;
      if (names[i] == "label") c.label = idx;
      if (names[i] == "labels") c.labels = idx;
      if (names[i] == "mask") c.mask = idx;
      if (names[i] == "patient_id") c.patient = idx;
      if (names[i] == "split") c.split = idx;
    }
    if (c.path < 0) fail(line, "missing required column 'path' in header '" + text + "'");
    if (c.label < 0 && c.labels < 0 && c.mask < 0) {
      fail(line, "no target column in header '" + text + "' (need label, labels or mask)");
    }
    return c;
  }

  int64_t label(const std::string& s, size_t line) const {
    char* end = nullptr;
    errno = 0;
    const long long v = s.empty() ? -1 : std::strtoll(s.c_str(), &end, 10);
    if (s.empty() || errno != 0 || *end != '\0' || v < 0) {
      fail(line, "bad label '" + s + "' (expected an integer >= 0)");
    }
    return v;
  }

  // "a|b|3" -> bits; an item is a name from label_names or an index.
  uint64_t label_bits(const std::string& s, size_t line) const {
    uint64_t bits = 0;
    size_t start = 0;
    while (!s.empty() && start <= s.size()) {
      const size_t end = std::min(s.find('|', start), s.size());
      const std::string item = trim(s.substr(start, end - start));
      bits |= uint64_t{1} << label_index(item, s, line);
      start = end + 1;
    }
    return bits;
  }

  size_t label_index(const std::string& item, const std::string& field, size_t line) const {
    const auto& names = o_.label_names;
    const auto named = std::find(names.begin(), names.end(), item);
    if (named != names.end()) return static_cast<size_t>(named - names.begin());
    char* end = nullptr;
    errno = 0;
    const long long v = item.empty() ? -1 : std::strtoll(item.c_str(), &end, 10);
    const bool number = !item.empty() && errno == 0 && *end == '\0';
    const size_t limit = names.empty() ? kMaxLabels : names.size();
    if (number && v >= 0 && static_cast<size_t>(v) < limit) return static_cast<size_t>(v);
    std::string known;
    for (const auto& n : names) known += (known.empty() ? "" : ", ") + n;
    fail(line, "bad labels '" + field + "': '" + item + "' is " +
                   (number ? "out of range (0.." + std::to_string(limit - 1) + ")"
                           : "not a label name" + (known.empty() ? std::string(" (no label names given)")
                                                                  : " (known: " + known + ")")));
  }

  ManifestRow row(const Columns& c, const std::string& text, size_t line) const {
    const std::vector<std::string> f = fields(text, line);
    if (f.size() != c.count) {
      fail(line, "expected " + std::to_string(c.count) + " fields as in the header, got " + std::to_string(f.size()));
    }
    ManifestRow r;
    r.line = line;
    r.path = f[c.path];
    if (r.path.empty()) fail(line, "empty path");
    if (c.label >= 0) r.label = label(f[c.label], line);
    if (c.labels >= 0) r.labels = label_bits(f[c.labels], line);
    if (c.mask >= 0) {
      r.mask = f[c.mask];
      if (r.mask.empty()) fail(line, "empty mask");
    }
    if (c.patient >= 0) r.patient_id = f[c.patient];
    if (c.split >= 0) r.split = f[c.split];
    // A split names shard files ("<split>-00000.shard"): a '/' would put one outside the pack.
    if (r.split.find_first_of(std::string("/\0", 2)) != std::string::npos) {
      fail(line, "split '" + r.split + "' cannot name a shard file (no '/' or NUL in a split)");
    }
    return r;
  }

  // Across all rows, before the split filter: duplicates, files, patient splits.
  void check(const std::vector<ManifestRow>& rows, const fs::path& root) const {
    std::unordered_map<std::string, size_t> seen;
    std::unordered_map<std::string, const ManifestRow*> patient_split;
    for (const ManifestRow& r : rows) {
      const std::string key = fs::path(r.path).lexically_normal().generic_string();
      const auto [it, fresh] = seen.emplace(key, r.line);
      if (!fresh) {
        fail(r.line,
             "duplicate path " + io::display_path(r.path) + " (first on line " + std::to_string(it->second) + ")");
      }
      if (!r.patient_id.empty() && !r.split.empty()) {
        const auto [p, first] = patient_split.emplace(r.patient_id, &r);
        if (!first && p->second->split != r.split) {
          fail(r.line, "patient " + r.patient_id + " is in split '" + r.split + "' here but in split '" +
                           p->second->split + "' on line " + std::to_string(p->second->line) +
                           "; all images of a patient must be in one split");
        }
      }
      std::error_code ec;
      if (!o_.check_files) continue;
      // A volume is a series folder, or one multi-frame file (enhanced CT/MR, RT dose).
      const bool multiframe = o_.paths_are_folders && fs::is_regular_file(root / r.path, ec) &&
                              is_multiframe_volume((root / r.path).string());
      if (o_.paths_are_folders ? !fs::is_directory(root / r.path, ec) && !multiframe
                               : !fs::is_regular_file(root / r.path, ec)) {
        // The other kind exists: say so, a volume manifest read as slices (or the reverse) is the usual cause.
        const bool other = o_.paths_are_folders ? fs::is_regular_file(root / r.path, ec) : fs::is_directory(root / r.path, ec);
        // A FIFO, socket or device is neither; saying "does not exist" would mislead.
        const bool special = !other && fs::exists(root / r.path, ec);
        const std::string why = special ? " is neither a regular file nor a folder (a FIFO, socket or device?)"
                                : !other ? " does not exist"
                                : o_.paths_are_folders ? " is a file, not a series folder (2D images: data.depth 0)"
                                                       : " is a folder (a series? volumes need data.depth > 0, or "
                                                         "pack --volumes)";
        fail(r.line, std::string(o_.paths_are_folders ? "series folder " : "file ") + io::display_path(r.path) +
                         why + " (root " + io::display_path(root.string()) + ")");
      }
      if (!r.mask.empty() && !fs::is_regular_file(root / r.mask, ec)) {
        fail(r.line, "mask " + io::display_path(r.mask) +
                         (fs::exists(root / r.mask, ec) ? " is not a regular file" : " does not exist") + " (root " +
                         io::display_path(root.string()) + ")");
      }
    }
  }

  Manifest read() const {
    // Guarded: a FIFO or device named as the manifest fails here instead of blocking.
    std::istringstream in(io::read_user_file(o_.manifest_path, "manifest", io::kMaxManifestBytes));
    Manifest m;
    m.manifest_path = o_.manifest_path;
    fs::path root = o_.root.empty() ? fs::path(o_.manifest_path).parent_path() : fs::path(o_.root);
    if (root.empty()) root = ".";
    m.root = root.string();
    Columns cols;
    bool have_header = false;
    std::string text;
    for (size_t line = 1; std::getline(in, text); ++line) {
      if (!text.empty() && text.back() == '\r') text.pop_back();
      if (line == 1 && text.rfind("\xEF\xBB\xBF", 0) == 0) text.erase(0, 3);  // UTF-8 BOM
      if (trim(text).empty()) continue;
      if (!have_header) {
        cols = header(text, line);
        have_header = true;
        m.has_label = cols.label >= 0;
        m.has_labels = cols.labels >= 0;
        m.has_mask = cols.mask >= 0;
      } else {
        m.rows.push_back(row(cols, text, line));
      }
    }
    if (!have_header) fail(0, "empty manifest: expected a header line with path and label, labels or mask");
    if (m.rows.empty()) fail(0, "no data rows after the header");
    check(m.rows, root);
    if (!o_.split.empty()) filter(m);
    return m;
  }

  // An empty result is not an error: a manifest may simply have no val rows.
  void filter(Manifest& m) const {
    std::vector<ManifestRow> kept;
    for (ManifestRow& r : m.rows) {
      if (r.split == o_.split) kept.push_back(std::move(r));
    }
    m.rows = std::move(kept);
  }

 private:
  const ManifestOptions& o_;
};

}  // namespace

std::vector<std::string> split_csv_line(const std::string& line) {
  std::vector<std::string> out;
  std::string field;
  bool quoted = false, was_quoted = false;
  for (size_t i = 0; i < line.size(); ++i) {
    const char ch = line[i];
    if (quoted) {
      if (ch == '"' && i + 1 < line.size() && line[i + 1] == '"') {
        field += '"';
        ++i;
      } else if (ch == '"') {
        quoted = false;
      } else {
        field += ch;
      }
    } else if (ch == '"' && trim(field).empty()) {
      quoted = was_quoted = true;
      field.clear();
    } else if (ch == ',') {
      out.push_back(was_quoted ? field : trim(field));
      field.clear();
      was_quoted = false;
    } else if (!(was_quoted && (ch == ' ' || ch == '\t'))) {
      field += ch;
    }
  }
  if (quoted) throw DataError("unterminated quote");
  out.push_back(was_quoted ? field : trim(field));
  return out;
}

Manifest read_manifest(const ManifestOptions& options) { return Reader(options).read(); }

}  // namespace medtrain::data
