#include "data/deid/pixel_regions.h"

#include <fmt/format.h>
#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <cctype>

#include "data/data_error.h"
#include "data/io/user_file.h"

namespace medtrain::data::deid {
namespace {

std::string fold(const std::string& s) {
  const auto b = s.find_first_not_of(" \t"), e = s.find_last_not_of(" \t");
  std::string t = b == std::string::npos ? "" : s.substr(b, e - b + 1);
  for (char& c : t) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return t;
}

[[noreturn]] void bad(const std::string& source, const YAML::Node& node, const std::string& what) {
  const std::string where = node.Mark().line >= 0 ? fmt::format("{}:{}", source, node.Mark().line + 1) : source;
  throw DataError(fmt::format("pixel region rules {}: {} (see configs/deid/pixel_regions.yaml for the format)", where,
                              what));
}

long positive(const std::string& source, const YAML::Node& node, const std::string& key, long min) {
  long v = 0;
  try {
    v = node.as<long>();
  } catch (const YAML::Exception&) {
    bad(source, node, key + ": expected an integer");
  }
  if (v < min) bad(source, node, fmt::format("{}: expected an integer >= {}, got {}", key, min, v));
  return v;
}

RegionRule parse_rule(const YAML::Node& n, const std::string& source) {
  if (!n.IsMap()) bad(source, n, "each rule is a mapping with id, manufacturer and boxes");
  RegionRule r;
  for (const auto& kv : n) {
    const std::string key = kv.first.as<std::string>();
    const YAML::Node& v = kv.second;
    if (key == "id") {
      r.id = v.as<std::string>();
    } else if (key == "manufacturer") {
      r.manufacturer = fold(v.as<std::string>());
    } else if (key == "model") {
      r.model = fold(v.as<std::string>());
    } else if (key == "rows") {
      r.rows = positive(source, v, key, 1);
    } else if (key == "columns") {
      r.columns = positive(source, v, key, 1);
    } else if (key == "boxes") {
      if (!v.IsSequence()) bad(source, v, "boxes: expected a list of [x, y, width, height]");
      for (const auto& b : v) {
        if (!b.IsSequence() || b.size() != 4) bad(source, b, "boxes: each box is [x, y, width, height]");
        r.boxes.push_back({static_cast<int>(positive(source, b[0], "x", 0)),
                           static_cast<int>(positive(source, b[1], "y", 0)),
                           static_cast<int>(positive(source, b[2], "width", 1)),
                           static_cast<int>(positive(source, b[3], "height", 1))});
      }
    } else if (key != "example" && key != "note") {
      bad(source, kv.first, "unknown key \"" + key + "\" (id, manufacturer, model, rows, columns, boxes, note)");
    }
  }
  if (r.id.empty()) bad(source, n, "a rule needs an id");
  if (r.manufacturer.empty()) bad(source, n, "rule " + r.id + ": manufacturer is required");
  if (r.boxes.empty()) bad(source, n, "rule " + r.id + ": boxes is required");
  return r;
}

}  // namespace

RegionRules RegionRules::parse(const std::string& text, const std::string& source) {
  RegionRules out;
  out.source = source;
  YAML::Node root;
  try {
    root = YAML::Load(text);
  } catch (const YAML::Exception& e) {
    throw DataError(fmt::format("pixel region rules {}:{}: not YAML: {}", source, e.mark.line + 1, e.msg));
  }
  if (root.IsNull()) return out;
  if (!root.IsMap() || !root["rules"]) bad(source, root, "expected a mapping with a \"rules\" list");
  const YAML::Node rules = root["rules"];
  if (!rules.IsSequence() && !rules.IsNull()) bad(source, rules, "rules: expected a list");
  try {
    for (const auto& n : rules) out.rules.push_back(parse_rule(n, source));
  } catch (const YAML::Exception& e) {
    throw DataError(fmt::format("pixel region rules {}:{}: {}", source, e.mark.line + 1, e.msg));
  }
  return out;
}

RegionRules RegionRules::load(const std::string& path) {
  return parse(io::read_user_file(path, "--pixel-regions", io::kMaxConfigBytes), io::display_path(path));
}

std::vector<const RegionRule*> RegionRules::matching(const std::string& manufacturer, const std::string& model,
                                                     long rows, long columns) const {
  std::vector<const RegionRule*> out;
  const std::string m = fold(manufacturer), mm = fold(model);
  for (const auto& r : rules) {
    if (r.manufacturer != m) continue;
    if (!r.model.empty() && r.model != mm) continue;
    if (r.rows && *r.rows != rows) continue;
    if (r.columns && *r.columns != columns) continue;
    out.push_back(&r);
  }
  return out;
}

}  // namespace medtrain::data::deid
