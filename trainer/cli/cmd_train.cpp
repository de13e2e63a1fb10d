// medtrain train -c FILE [--set k=v ...] [--resume auto|PATH]
#include <CLI/CLI.hpp>
#include <fmt/format.h>

#include <memory>

#include "trainer/cli/app.h"
#include "trainer/cli/commands.h"
#include "trainer/config/config_loader.h"
#include "trainer/dist/mpi_runtime.h"
#include "trainer/engine/trainer.h"
#include "trainer/user_error.h"

namespace medtrain::cli {

void add_config_flags(CLI::App& cmd, ConfigFlags& flags) {
  cmd.add_option("-c,--config", flags.file, "experiment YAML (required)");
  cmd.add_option("--set", flags.overrides, "override a key, e.g. --set optim.lr=3e-4 (repeatable)")
      ->type_name("KEY=VALUE");
}

config::Config load_config_flags(const ConfigFlags& flags, const std::string& command) {
  if (flags.file.empty()) throw UserError(command + ": -c/--config FILE is required");
  return config::load_config(flags.file, flags.overrides);
}

namespace {

int train_one_rank(const config::Config& cfg, const dist::World& world, const engine::TrainOptions& options) {
  auto result = engine::train(cfg, world, options);
  if (!world.is_main()) return result.stopped_by_signal ? kExitPreempted : kExitOk;
  if (result.stopped_by_signal) {
    std::fprintf(stderr, "medtrain: stopped by a signal at step %lld; checkpoint %s; resume with --resume auto\n",
                 static_cast<long long>(result.steps),
                 result.last_checkpoint ? result.last_checkpoint->c_str() : "(none)");
    return kExitPreempted;
  }
  fmt::print("done: {} steps, run directory {}\n", result.steps, result.run_dir.string());
  return kExitOk;
}

}  // namespace

Command add_train_command(CLI::App& app) {
  auto* cmd = app.add_subcommand("train", "train a model from an experiment config");
  auto flags = std::make_shared<ConfigFlags>();
  auto resume = std::make_shared<std::string>();
  auto overwrite = std::make_shared<bool>(false);
  add_config_flags(*cmd, *flags);
  cmd->add_option("--resume", *resume,
                  "auto: continue from the run's latest checkpoint if any; PATH: from that checkpoint");
  cmd->add_flag("--overwrite", *overwrite,
                "start afresh in a run folder that holds an earlier run's checkpoints (deletes them)");
  return {cmd, [flags, resume, overwrite] {
            auto cfg = load_config_flags(*flags, "train");
            if (*overwrite && !resume->empty()) throw UserError("train: --overwrite and --resume contradict each other");
            // MPI only when a launcher started us; a plain run is rank 0 of 1.
            auto mpi = dist::MpiRuntime::init_if_launched();
            if (!mpi) return train_one_rank(cfg, dist::World{}, {*resume, "localhost", *overwrite});
            try {
              return train_one_rank(cfg, mpi->world(), {*resume, mpi->host(), *overwrite});
            } catch (...) {
              // One rank failed: say so once with its rank and host, then end
              // the whole job so that no other rank waits for it.
              const int code = exit_code_of_current_exception(
                  fmt::format("rank {} ({})", mpi->world().rank, mpi->host()));
              mpi->abort(code);
            }
          }};
}

}  // namespace medtrain::cli
