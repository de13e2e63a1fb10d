#pragma once
// Reading a YAML experiment into a Config. Every error is a ConfigError whose
// message names the key path and where it came from, e.g.
//   optim.lr (configs/x.yaml:12): expected a number, got "fast"
//   unknown key optim.lrr (configs/x.yaml:12); did you mean optim.lr?
//   optim.lr (--set optim.lr=-1): must be > 0, got -1
#include <filesystem>
#include <string>
#include <vector>

#include "trainer/config/config.h"
#include "trainer/user_error.h"

namespace medtrain::config {

class ConfigError : public UserError {
 public:
  using UserError::UserError;
};

// Loads `file`, resolving `base: other.yaml` chains (paths relative to the file
// that names them; cycles are errors), then applies `overrides` ("a.b=value",
// value parsed as a YAML scalar or flow sequence) in order, then validates.
Config load_config(const std::filesystem::path& file,
                   const std::vector<std::string>& overrides = {});

// Defaults + overrides, no file (tests, `medtrain config docs`).
Config config_from_overrides(const std::vector<std::string>& overrides);

// Every key of the schema with its resolved value, as YAML sections in table
// order. load_config(to_yaml(c)) reproduces c.
std::string to_yaml(const Config& config);

// Markdown reference of every key (type, default, allowed values, meaning),
// generated from the same table the validator uses. docs/config.md is this text.
std::string config_reference_markdown();

}  // namespace medtrain::config
