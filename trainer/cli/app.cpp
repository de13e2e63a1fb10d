#include "trainer/cli/app.h"

#include <CLI/CLI.hpp>
#include <c10/util/Exception.h>
#include <fmt/format.h>
#include <torch/version.h>

#include <cstdio>
#include <filesystem>
#include <system_error>
#include <string>

#include "data/data_error.h"
#include "data/io/user_file.h"
#include "kernels/device.h"
#include "models/model_error.h"
#include "trainer/cli/commands.h"
#include "trainer/user_error.h"
#include "trainer/version.h"

namespace medtrain::cli {

namespace {

// Messages become exactly one line, whatever a library put in them.
std::string one_line(std::string text) {
  for (char& c : text) {
    if (c == '\n' || c == '\r') c = ' ';
  }
  while (!text.empty() && text.back() == ' ') text.pop_back();
  return text;
}

int fail(int code, const std::string& what) {
  std::fflush(stdout);
  std::fprintf(stderr, "medtrain: error: %s\n", one_line(what).c_str());
  return code;
}

bool user_fixable(const std::error_code& code) {
  static const std::errc kUser[] = {std::errc::permission_denied, std::errc::read_only_file_system,
                                    std::errc::not_a_directory, std::errc::is_a_directory, std::errc::file_exists,
                                    std::errc::no_such_file_or_directory, std::errc::filename_too_long,
                                    std::errc::too_many_symbolic_link_levels};
  for (std::errc e : kUser) {
    if (code == e) return true;
  }
  return false;
}

// libstdc++ says "filesystem error: cannot create directories: Not a directory
// [path]"; the paths come back shortened and first, the prefix goes.
std::string filesystem_message(const std::filesystem::filesystem_error& e) {
  std::string what = e.what();
  const std::string prefix = "filesystem error: ";
  if (what.rfind(prefix, 0) == 0) what.erase(0, prefix.size());
  if (const size_t bracket = what.find(" ["); bracket != std::string::npos) what.erase(bracket);
  std::string where = e.path1().empty() ? "" : data::io::display_path(e.path1().string());
  if (!e.path2().empty()) where += " -> " + data::io::display_path(e.path2().string());
  return where.empty() ? what : where + ": " + what;
}

std::string version_text() {
  return fmt::format("medtrain {} (LibTorch {}, CUDA kernels {}; {})", kVersion, TORCH_VERSION,
                     kernels::built_with_cuda() ? "built" : "not built", kernels::describe_devices());
}

}  // namespace

int run_app(int argc, char** argv) {
  CLI::App app{"medtrain: distributed deep learning for medical imaging", "medtrain"};
  app.require_subcommand(1);
  app.set_version_flag("--version", version_text());
  std::vector<Command> commands = {add_train_command(app), add_eval_command(app), add_models_command(app),
                                   add_demo_data_command(app), add_inspect_command(app),
                                   add_deid_command(app), add_pack_command(app), add_verify_shards_command(app),
                                   add_iobench_command(app), add_export_command(app), add_infer_command(app),
                                   add_transcribe_command(app), add_report_command(app)};
  for (auto& c : add_config_commands(app)) commands.push_back(c);
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    if (e.get_exit_code() == 0) return app.exit(e);  // --help, --version
    return fail(kExitUserError, std::string(e.what()) + " (run with --help for usage)");
  }
  try {
    for (auto& c : commands) {
      if (c.app->parsed()) return c.run();
    }
    return fail(kExitUserError, "no command given (run with --help)");
  } catch (...) {
    return exit_code_of_current_exception("");
  }
}

int exit_code_of_current_exception(const std::string& who) {
  const std::string prefix = who.empty() ? "" : who + ": ";
  try {
    throw;
  } catch (const UserError& e) {
    return fail(kExitUserError, prefix + e.what());
  } catch (const data::DataError& e) {
    return fail(kExitUserError, prefix + e.what());
  } catch (const models::ModelError& e) {
    return fail(kExitUserError, prefix + e.what());
  } catch (const std::filesystem::filesystem_error& e) {
    // A folder the user named that is a file, read-only, or missing: theirs to
    // fix (exit 2), said with the path shortened; anything else is a failure.
    const int code = user_fixable(e.code()) ? kExitUserError : kExitRuntimeError;
    return fail(code, prefix + filesystem_message(e));
  } catch (const c10::Error& e) {
    return fail(kExitRuntimeError, prefix + e.what_without_backtrace());
  } catch (const std::exception& e) {
    return fail(kExitRuntimeError, prefix + e.what());
  } catch (...) {
    return fail(kExitRuntimeError, prefix + "unknown error");
  }
}

}  // namespace medtrain::cli
