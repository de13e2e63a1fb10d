// medtrain report RUN_DIR [--out FILE]: the run as one self-contained HTML page
// (trainer/report/run_report.h), readable without TensorBoard.
#include <CLI/CLI.hpp>
#include <fmt/format.h>

#include <filesystem>
#include <memory>
#include <string>

#include "trainer/cli/commands.h"
#include "trainer/report/run_report.h"
#include "trainer/user_error.h"  // kExitOk

namespace medtrain::cli {

namespace {
struct ReportFlags {
  std::string run_dir;
  std::string out;  // empty: RUN_DIR/report.html
};
}  // namespace

Command add_report_command(CLI::App& app) {
  auto* cmd = app.add_subcommand("report", "write one HTML page of a training run: config, final metrics, curves, "
                                           "example images (no TensorBoard needed)");
  auto f = std::make_shared<ReportFlags>();
  cmd->add_option("run_dir", f->run_dir, "the run folder (run.output_dir/run.name)")->required();
  cmd->add_option("--out", f->out, "the HTML file to write (default RUN_DIR/report.html)");
  return {cmd, [f] {
            const std::filesystem::path run_dir = f->run_dir;
            const std::filesystem::path out = f->out.empty() ? run_dir / "report.html" : std::filesystem::path(f->out);
            const auto written = report::write_run_report(run_dir, out);
            fmt::print("wrote {}\n", written.string());
            return kExitOk;
          }};
}

}  // namespace medtrain::cli
