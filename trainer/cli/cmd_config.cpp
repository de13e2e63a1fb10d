// medtrain config check -c FILE [--set ...]   validate and print the resolved config
// medtrain config get -c FILE [--set ...] KEY  one resolved value (for scripts)
// medtrain config docs                        the key reference (docs/config.md)
#include <CLI/CLI.hpp>
#include <fmt/format.h>

#include <yaml-cpp/yaml.h>

#include <memory>
#include <sstream>

#include "trainer/cli/commands.h"
#include "trainer/config/config_loader.h"
#include "trainer/user_error.h"

namespace medtrain::cli {

namespace {

// The value at a dotted key path of the resolved config, as YAML prints it.
std::string resolved_value(const config::Config& cfg, const std::string& key) {
  YAML::Node node = YAML::Load(config::to_yaml(cfg));
  std::stringstream path(key);
  std::string part;
  while (std::getline(path, part, '.')) {
    if (!node.IsMap() || !node[part]) throw UserError("config get: no key '" + key + "' (see `medtrain config docs`)");
    node = node[part];
  }
  if (node.IsMap()) throw UserError("config get: '" + key + "' is a section, not a value");
  if (node.IsScalar()) return node.Scalar();
  YAML::Emitter out;
  out << YAML::Flow << node;
  return out.c_str();
}

}  // namespace

std::vector<Command> add_config_commands(CLI::App& app) {
  auto* group = app.add_subcommand("config", "validate configs and print the key reference");
  group->require_subcommand(1);
  auto* check = group->add_subcommand("check", "validate an experiment and print it fully resolved");
  auto flags = std::make_shared<ConfigFlags>();
  add_config_flags(*check, *flags);
  auto* get = group->add_subcommand("get", "print one value of the resolved config, e.g. run.name");
  auto get_flags = std::make_shared<ConfigFlags>();
  auto key = std::make_shared<std::string>();
  add_config_flags(*get, *get_flags);
  get->add_option("KEY", *key, "dotted key path")->required();
  auto* docs = group->add_subcommand("docs", "print the reference of every config key (markdown)");
  return {{get,
           [get_flags, key] {
             fmt::print("{}\n", resolved_value(load_config_flags(*get_flags, "config get"), *key));
             return kExitOk;
           }},
          {check,
           [flags] {
             auto cfg = load_config_flags(*flags, "config check");
             fmt::print("{}", config::to_yaml(cfg));
             return kExitOk;
           }},
          {docs, [] {
             fmt::print("{}", config::config_reference_markdown());
             return kExitOk;
           }}};
}

}  // namespace medtrain::cli
