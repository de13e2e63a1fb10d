// medtrain config check -c FILE [--set ...]   validate and print the resolved config
// medtrain config docs                        the key reference (docs/config.md)
#include <CLI/CLI.hpp>
#include <fmt/format.h>

#include <memory>

#include "trainer/cli/commands.h"
#include "trainer/config/config_loader.h"
#include "trainer/user_error.h"

namespace medtrain::cli {

std::vector<Command> add_config_commands(CLI::App& app) {
  auto* group = app.add_subcommand("config", "validate configs and print the key reference");
  group->require_subcommand(1);
  auto* check = group->add_subcommand("check", "validate an experiment and print it fully resolved");
  auto flags = std::make_shared<ConfigFlags>();
  add_config_flags(*check, *flags);
  auto* docs = group->add_subcommand("docs", "print the reference of every config key (markdown)");
  return {{check,
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
