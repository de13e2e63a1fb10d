#pragma once
// Where a config value came from, for error messages: a file and 1-based line
// ("configs/x.yaml:12"), a command-line override ("--set optim.lr=fast"), or
// the built-in default.
#include <string>

#include "trainer/config/config_loader.h"

namespace medtrain::config::detail {

struct Location {
  enum class Kind { kDefault, kFile, kOverride };
  Kind kind = Kind::kDefault;
  std::string file;           // kFile
  int line = 0;               // kFile: 1-based; 0 = unknown
  std::string override_text;  // kOverride: the text after --set

  static Location in_file(std::string file, int yaml_mark_line);  // 0-based, -1 unknown
  static Location from_override(std::string text);

  // "configs/x.yaml:12", "configs/x.yaml", "--set optim.lr=fast", "default".
  std::string str() const;
};

// "<path> (<where>): <what>", the shape of every per-key error.
ConfigError key_error(const std::string& path, const Location& where, const std::string& what);

}  // namespace medtrain::config::detail
