#pragma once
// Each command registers its flags on the app and returns what to run when it
// was chosen. The run function returns the process exit code and may throw;
// run_app turns exceptions into one line and an exit code.
#include <functional>
#include <string>
#include <vector>

#include "trainer/config/config.h"

namespace CLI {
class App;
}

namespace medtrain::cli {

struct Command {
  CLI::App* app = nullptr;
  std::function<int()> run;
};

Command add_train_command(CLI::App& app);
Command add_eval_command(CLI::App& app);
std::vector<Command> add_config_commands(CLI::App& app);  // config check, config docs
Command add_models_command(CLI::App& app);
Command add_demo_data_command(CLI::App& app);
Command add_deid_command(CLI::App& app);
Command add_inspect_command(CLI::App& app);
Command add_export_command(CLI::App& app);
Command add_infer_command(CLI::App& app);
Command add_transcribe_command(CLI::App& app);
Command add_pack_command(CLI::App& app);
Command add_verify_shards_command(CLI::App& app);
Command add_iobench_command(CLI::App& app);
Command add_report_command(CLI::App& app);  // medtrain report RUN_DIR

// Shared by commands that read an experiment: -c FILE and --set KEY=VALUE.
struct ConfigFlags {
  std::string file;
  std::vector<std::string> overrides;
};
void add_config_flags(CLI::App& cmd, ConfigFlags& flags);
// The experiment the flags name. -c is checked here rather than by CLI11, whose
// "required" check runs first and would hide a mistyped flag behind it.
config::Config load_config_flags(const ConfigFlags& flags, const std::string& command);

}  // namespace medtrain::cli
