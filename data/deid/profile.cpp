#include "data/deid/profile.h"

#include <fmt/format.h>

#include <sstream>

#include "data/data_error.h"
#include "data/deid/profile_table.h"

namespace medtrain::data::deid {
namespace {

constexpr const char* kColumns[] = {"tag", "name", "basic", "rtn_long_modif_dates", "rtn_pat_chars",
                                    "rtn_dev_id", "clean_desc"};
constexpr const char* kOptionFlags[] = {"long-modified-dates", "patient-characteristics", "device-identity",
                                        "clean-descriptors"};

std::vector<std::string> split_tabs(const std::string& line) {
  std::vector<std::string> out;
  size_t start = 0;
  while (true) {
    size_t tab = line.find('\t', start);
    out.push_back(line.substr(start, tab == std::string::npos ? std::string::npos : tab - start));
    if (tab == std::string::npos) return out;
    start = tab + 1;
  }
}

bool is_action_letter(char c) { return c == 'D' || c == 'Z' || c == 'X' || c == 'K' || c == 'C' || c == 'U'; }

// "X/Z/U*" -> true; each part one action letter, "U" optionally starred.
bool valid_action_text(const std::string& text) {
  if (text.empty()) return false;
  std::stringstream ss(text);
  std::string part;
  while (std::getline(ss, part, '/')) {
    if (part.empty() || part.size() > 2 || !is_action_letter(part[0])) return false;
    if (part.size() == 2 && part != "U*") return false;
  }
  return text.back() != '/';
}

// "(60xx,3000)" -> tag 0x60003000, mask 0xFF00FFFF.
bool parse_tag(const std::string& text, uint32_t& tag, uint32_t& mask) {
  if (text.size() != 11 || text[0] != '(' || text[5] != ',' || text[10] != ')') return false;
  const std::string hex = text.substr(1, 4) + text.substr(6, 4);
  tag = 0;
  mask = 0;
  for (char c : hex) {
    uint32_t digit = 0, digit_mask = 0xF;
    if (c >= '0' && c <= '9') digit = c - '0';
    else if (c >= 'A' && c <= 'F') digit = c - 'A' + 10;
    else if (c >= 'a' && c <= 'f') digit = c - 'a' + 10;
    else if (c == 'x' || c == 'X') digit_mask = 0;
    else return false;
    tag = (tag << 4) | digit;
    mask = (mask << 4) | digit_mask;
  }
  return true;
}

Action last_action(const std::string& text) {
  const size_t slash = text.rfind('/');
  return static_cast<Action>(text[slash == std::string::npos ? 0 : slash + 1]);
}

}  // namespace

const char* option_column(ProfileOption o) { return kColumns[3 + static_cast<int>(o)]; }
const char* option_flag(ProfileOption o) { return kOptionFlags[static_cast<int>(o)]; }

ProfileOption parse_option(const std::string& name) {
  for (int i = 0; i < kOptionCount; ++i) {
    const auto o = static_cast<ProfileOption>(i);
    if (name == option_flag(o) || name == option_column(o)) return o;
  }
  throw DataError(fmt::format("unknown de-identification option \"{}\" (expected one of: {}, {}, {}, {})", name,
                              kOptionFlags[0], kOptionFlags[1], kOptionFlags[2], kOptionFlags[3]));
}

Action resolve_action(const ProfileRow& row, const ProfileOptions& options) {
  std::optional<Action> chosen;
  for (int i = 0; i < kOptionCount; ++i) {
    if (!options.enabled[i] || row.option[i].empty()) continue;
    const Action a = last_action(row.option[i]);
    // Options only ever retain more: K wins over C, C over anything the basic profile says.
    if (!chosen || a == Action::kKeep || (a == Action::kClean && *chosen != Action::kKeep)) chosen = a;
  }
  return chosen ? *chosen : last_action(row.basic);
}

std::string tag_string(uint16_t group, uint16_t element) { return fmt::format("({:04X},{:04X})", group, element); }

Profile Profile::parse(const std::string& text, const std::string& source) {
  Profile p;
  std::stringstream in(text);
  std::string line;
  int line_no = 0;
  bool header_seen = false;
  while (std::getline(in, line)) {
    ++line_no;
    if (!line.empty() && line.back() == '\r') line.pop_back();
    // The raw-string wrapper lines of the compiled-in copy, comments, blank lines.
    if (line.empty() || line[0] == '#' || line == "R\"tsv(" || line == ")tsv\"") continue;
    auto cells = split_tabs(line);
    const auto where = fmt::format("{}:{}", source, line_no);
    if (!header_seen) {
      if (cells.size() != std::size(kColumns)) {
        throw DataError(fmt::format("{}: header has {} columns, expected {}", where, cells.size(), std::size(kColumns)));
      }
      for (size_t i = 0; i < cells.size(); ++i) {
        if (cells[i] != kColumns[i]) {
          throw DataError(fmt::format("{}: header column {} is \"{}\", expected \"{}\"", where, i + 1, cells[i], kColumns[i]));
        }
      }
      header_seen = true;
      continue;
    }
    if (cells.size() != std::size(kColumns)) {
      throw DataError(fmt::format("{}: expected {} tab-separated columns, got {}", where, std::size(kColumns), cells.size()));
    }
    ProfileRow row;
    if (!parse_tag(cells[0], row.tag, row.mask)) {
      throw DataError(fmt::format("{}: bad tag \"{}\" (expected (gggg,eeee) in hex, x for a wildcard digit)", where, cells[0]));
    }
    row.name = cells[1];
    row.basic = cells[2];
    if (!valid_action_text(row.basic)) {
      throw DataError(fmt::format("{}: bad basic action \"{}\" for {} (expected D, Z, X, K, C, U or a choice like X/Z)",
                                  where, row.basic, cells[0]));
    }
    for (int i = 0; i < kOptionCount; ++i) {
      row.option[i] = cells[3 + i];
      if (!row.option[i].empty() && !valid_action_text(row.option[i])) {
        throw DataError(fmt::format("{}: bad {} action \"{}\" for {}", where, kColumns[3 + i], row.option[i], cells[0]));
      }
    }
    const size_t index = p.rows_.size();
    if (row.mask == 0xFFFFFFFFu) {
      if (!p.exact_.emplace(row.tag, index).second) {
        throw DataError(fmt::format("{}: tag {} is listed twice", where, cells[0]));
      }
    } else {
      p.masked_.push_back(index);
    }
    p.rows_.push_back(std::move(row));
  }
  if (!header_seen) throw DataError(fmt::format("{}: no header line (tag, name, basic, ...)", source));
  return p;
}

const Profile& Profile::basic() {
  static const Profile kProfile = parse(basic_profile_tsv(), "data/deid/basic_profile.tsv");
  return kProfile;
}

const ProfileRow* Profile::find(uint16_t group, uint16_t element) const {
  const uint32_t tag = (static_cast<uint32_t>(group) << 16) | element;
  if (auto it = exact_.find(tag); it != exact_.end()) return &rows_[it->second];
  for (size_t i : masked_) {
    if ((tag & rows_[i].mask) == rows_[i].tag) return &rows_[i];
  }
  return nullptr;
}

}  // namespace medtrain::data::deid
