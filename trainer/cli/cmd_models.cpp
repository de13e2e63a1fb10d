// medtrain models: the zoo, with parameter counts and pretrained sources.
#include <CLI/CLI.hpp>
#include <fmt/format.h>

#include "models/registry.h"
#include "trainer/cli/commands.h"
#include "trainer/user_error.h"

namespace medtrain::cli {

Command add_models_command(CLI::App& app) {
  auto* cmd = app.add_subcommand("models", "list the model zoo");
  return {cmd, [] {
            fmt::print("{:<11} {:<7} {:>12}  {:<32} {}\n", "model", "family", "parameters", "input", "pretrained");
            for (const auto& info : models::model_zoo()) {
              // Counted on the reference configuration (ImageNet: 3 channels, 1000 classes).
              auto model = models::create_model({info.name, 1000, 3});
              fmt::print("{:<11} {:<7} {:>11.1f}M  {:<32} {}\n", info.name, info.family,
                         models::parameter_count(*model) / 1e6, info.input, info.pretrained);
            }
            return kExitOk;
          }};
}

}  // namespace medtrain::cli
