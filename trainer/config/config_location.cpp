#include "trainer/config/config_location.h"

#include <fmt/format.h>

namespace medtrain::config::detail {

Location Location::in_file(std::string file, int yaml_mark_line) {
  Location loc;
  loc.kind = Kind::kFile;
  loc.file = std::move(file);
  loc.line = yaml_mark_line >= 0 ? yaml_mark_line + 1 : 0;  // yaml-cpp counts from 0
  return loc;
}

Location Location::from_override(std::string text) {
  Location loc;
  loc.kind = Kind::kOverride;
  loc.override_text = std::move(text);
  return loc;
}

std::string Location::str() const {
  switch (kind) {
    case Kind::kFile:
      return line > 0 ? fmt::format("{}:{}", file, line) : file;
    case Kind::kOverride:
      return "--set " + override_text;
    case Kind::kDefault:
      break;
  }
  return "default";
}

ConfigError key_error(const std::string& path, const Location& where, const std::string& what) {
  return ConfigError(fmt::format("{} ({}): {}", path, where.str(), what));
}

}  // namespace medtrain::config::detail
