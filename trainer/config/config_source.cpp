#include "trainer/config/config_source.h"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <fstream>
#include <set>
#include <sstream>

#include "data/data_error.h"
#include "data/io/user_file.h"
#include "trainer/config/config_suggest.h"
#include "trainer/config/config_value.h"

namespace medtrain::config::detail {
namespace fs = std::filesystem;
namespace {

constexpr const char* kBaseKey = "base";

// One file of a base chain: how it is shown in messages, and its identity.
struct ChainLink {
  std::string shown;
  fs::path canonical;
};

// Where a value is: its own line, or its key's when it has none (`key:` alone).
Location value_location(const std::string& file, const YAML::Node& key, const YAML::Node& value) {
  const bool own = !value.IsNull() && value.Mark().line >= 0;
  return Location::in_file(file, own ? value.Mark().line : key.Mark().line);
}

// The keys of a mapping, rejecting non-scalar and repeated keys (yaml-cpp keeps
// both copies of a repeated key; a config that says lr twice is a mistake).
std::vector<std::pair<YAML::Node, YAML::Node>> entries(const YAML::Node& map,
                                                       const std::string& file,
                                                       const std::string& prefix) {
  std::vector<std::pair<YAML::Node, YAML::Node>> out;
  std::set<std::string> seen;
  for (const auto& kv : map) {
    const Location at = Location::in_file(file, kv.first.Mark().line);
    if (!kv.first.IsScalar()) {
      throw ConfigError(
          fmt::format("{}: keys must be plain names, got {}", at.str(), describe(kv.first)));
    }
    if (!seen.insert(kv.first.Scalar()).second) {
      throw ConfigError(
          fmt::format("duplicate key {}{} ({})", prefix, kv.first.Scalar(), at.str()));
    }
    out.emplace_back(kv.first, kv.second);
  }
  return out;
}

YAML::Node parse_file(const fs::path& file, const std::string& shown, const std::string& named_by) {
  std::error_code ec;
  const fs::file_status status = fs::status(file, ec);
  if (!fs::exists(status))
    throw ConfigError(fmt::format("config file {}: no such file{}", data::io::display_path(shown), named_by));
  if (fs::is_directory(status)) {
    throw ConfigError(
        fmt::format("config file {}: is a directory, expected a YAML file{}", data::io::display_path(shown), named_by));
  }
  // Guarded read: /dev/zero or a FIFO named as a config (or a base:) is refused
  // before a byte is read, and a config is capped in size.
  std::string text;
  try {
    text = data::io::read_user_file(file.string(), "config file", data::io::kMaxConfigBytes);
  } catch (const data::DataError& e) {
    throw ConfigError(e.what() + named_by);
  }
  try {
    return YAML::Load(text);
  } catch (const YAML::Exception& e) {
    const Location at = Location::in_file(shown, e.mark.line);
    throw ConfigError(fmt::format("{}: YAML syntax error: {}", at.str(), e.msg));
  }
}

ConfigError unknown_section(const std::string& name, const Location& at) {
  std::vector<std::string> names;
  for (const SectionSpec& section : section_table()) names.push_back(section.name);
  const auto hint = suggest_section(name);
  return ConfigError(fmt::format(
      "unknown section {} ({}){}", name, at.str(),
      hint ? did_you_mean(hint) : fmt::format("; sections are {}", fmt::join(names, ", "))));
}

void read_section(const std::string& file, const YAML::Node& key, const YAML::Node& body,
                  std::vector<Assignment>& out) {
  const std::string section = key.Scalar();
  if (body.IsNull()) return;  // every key commented out: an empty section
  if (!body.IsMap()) {
    throw key_error(
        section, value_location(file, key, body),
        fmt::format("expected a section (indented key: value lines), got {}", describe(body)));
  }
  for (const auto& [k, v] : entries(body, file, section + ".")) {
    const std::string path = section + "." + k.Scalar();
    const KeySpec* spec = find_key(path);
    if (spec == nullptr) {
      std::vector<std::string> names;
      for (const KeySpec& s : key_table()) {
        if (s.section == section) names.push_back(s.name);
      }
      const auto hint = suggest_key(path);
      throw ConfigError(
          fmt::format("unknown key {} ({}){}", path, Location::in_file(file, k.Mark().line).str(),
                      hint ? did_you_mean(hint)
                           : fmt::format("; {} has keys {}", section, fmt::join(names, ", "))));
    }
    out.push_back(Assignment{spec, v, value_location(file, k, v)});
  }
}

void read_chain(const fs::path& file, const std::string& named_by, std::vector<ChainLink>& chain,
                std::vector<Assignment>& out) {
  const std::string shown = file.string();
  const YAML::Node root = parse_file(file, shown, named_by);
  std::error_code ec;
  fs::path canonical = fs::weakly_canonical(file, ec);
  if (ec) canonical = fs::absolute(file).lexically_normal();
  for (const ChainLink& link : chain) {
    if (link.canonical != canonical) continue;
    std::vector<std::string> names;
    for (const ChainLink& l : chain) names.push_back(l.shown);
    throw ConfigError(
        fmt::format("base cycle: {} -> {}{}", fmt::join(names, " -> "), shown, named_by));
  }
  if (root.IsNull()) return;  // an empty file (or only comments) changes nothing
  if (!root.IsMap()) {
    throw ConfigError(
        fmt::format("{}: expected sections (run:, data:, ...) at the top level, got {}",
                    Location::in_file(shown, root.Mark().line).str(), describe(root)));
  }
  const auto top = entries(root, shown, "");
  chain.push_back(ChainLink{shown, canonical});
  for (const auto& [key, value] : top) {  // the base first, wherever it is written
    if (key.Scalar() != kBaseKey) continue;
    const Location at = value_location(shown, key, value);
    if (!value.IsScalar() || value.Scalar().empty()) {
      throw key_error(kBaseKey, at, "expected the path of a YAML file, got " + describe(value));
    }
    const fs::path base = (file.parent_path() / value.Scalar()).lexically_normal();
    read_chain(base, fmt::format(" (base: of {})", at.str()), chain, out);
  }
  chain.pop_back();
  for (const auto& [key, value] : top) {
    if (key.Scalar() == kBaseKey) continue;
    if (!is_section(key.Scalar())) {
      throw unknown_section(key.Scalar(), Location::in_file(shown, key.Mark().line));
    }
    read_section(shown, key, value, out);
  }
}

std::string trim(const std::string& text) {
  const auto first = text.find_first_not_of(" \t");
  if (first == std::string::npos) return "";
  return text.substr(first, text.find_last_not_of(" \t") - first + 1);
}

}  // namespace

std::vector<Assignment> read_config_file(const fs::path& file) {
  std::vector<ChainLink> chain;
  std::vector<Assignment> out;
  read_chain(file, "", chain, out);
  return out;
}

Assignment parse_override(const std::string& text) {
  const Location where = Location::from_override(text);
  const auto eq = text.find('=');
  const std::string path = eq == std::string::npos ? "" : trim(text.substr(0, eq));
  if (path.empty()) {
    throw ConfigError(
        fmt::format("malformed override --set {}: expected section.key=value, e.g. "
                    "--set optim.lr=3e-4",
                    quote(text)));
  }
  if (is_section(path)) {
    throw ConfigError(fmt::format(
        "--set {}: {} is a section; set one key, e.g. --set {}.<key>=value", text, path, path));
  }
  const KeySpec* spec = find_key(path);
  if (spec == nullptr) {
    const auto hint = suggest_key(path);
    throw ConfigError(fmt::format("unknown key {} ({}){}", path, where.str(),
                                  hint ? did_you_mean(hint) : "; docs/config.md lists every key"));
  }
  try {
    return Assignment{spec, YAML::Load(text.substr(eq + 1)), where};
  } catch (const YAML::Exception& e) {
    throw key_error(path, where, "YAML syntax error in the value: " + e.msg);
  }
}

}  // namespace medtrain::config::detail
