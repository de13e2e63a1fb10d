#pragma once
// Reading config sources into assignments "this key gets this YAML node, from
// here": a YAML file with its `base:` chain, or one `--set a.b=value`. The
// structure is checked here (syntax, sections, unknown keys, cycles); types and
// ranges are checked when the loader applies the assignments.
#include <yaml-cpp/yaml.h>

#include <filesystem>
#include <string>
#include <vector>

#include "trainer/config/config_location.h"
#include "trainer/config/config_schema.h"

namespace medtrain::config::detail {

struct Assignment {
  const KeySpec* spec = nullptr;
  YAML::Node node;
  Location where;
};

// The assignments of `file` in the order to apply them: those of its base
// (recursively) first, then its own, so that a child overrides its base key by
// key. Each keeps the file and line it was written at.
std::vector<Assignment> read_config_file(const std::filesystem::path& file);

// One "--set section.key=value" (the text after --set); the value is parsed as
// YAML, so "[a, b]" is a list and "'1'" a string.
Assignment parse_override(const std::string& text);

}  // namespace medtrain::config::detail
