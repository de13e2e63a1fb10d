#include "trainer/report/run_report.h"

#include <fmt/format.h>

#include <system_error>
#include <vector>

#include "data/data_error.h"
#include "data/io/output_file.h"
#include "data/io/user_file.h"
#include "trainer/checkpoint/atomic_file.h"
#include "trainer/report/html_page.h"
#include "trainer/report/report_charts.h"
#include "trainer/report/run_contents.h"
#include "trainer/user_error.h"

namespace fs = std::filesystem;

namespace medtrain::report {

namespace {

// Checked before the drawing, so a mistyped --out fails with its own message
// rather than at the rename (data/io/output_file.h: a symbolic link, FIFO or
// device is refused, never replaced or written through).
// Thrown as UserError, as write_run_report promises.
void check_out(const fs::path& out) {
  try {
    data::io::check_output_file(out.string(), "report --out", "HTML");
  } catch (const data::DataError& e) {
    throw UserError(e.what());
  }
}

// --out naming one of the files the report is read from (say a slip of the
// shell's completion to RUN_DIR/metrics.jsonl) would replace the run's own
// log with the page (a hard link to it too; a symbolic link is refused
// already by check_out).
void check_out_is_not_an_input(const fs::path& run_dir, const fs::path& out) {
  std::error_code ec;
  if (!fs::exists(out, ec)) return;
  std::vector<fs::path> inputs = {run_dir / "config.yaml", run_dir / "metrics.jsonl"};
  for (const auto& entry : fs::directory_iterator(run_dir / "tensorboard", ec)) inputs.push_back(entry.path());
  for (const auto& input : inputs) {
    if (data::io::same_file(out, input)) {
      throw UserError(fmt::format("report --out {}: is the run's own {}; name another file for the page",
                                  data::io::display_path(out.string()),
                                  data::io::display_path(input.lexically_relative(run_dir).string())));
    }
  }
}

}  // namespace

fs::path write_run_report(const fs::path& run_dir, const fs::path& out) {
  const RunContents run = load_run_contents(run_dir);  // first: a missing RUN_DIR is named as such
  check_out(out);
  check_out_is_not_an_input(run_dir, out);
  ReportFigures figures;
  figures.curves = curve_figures(run, figures.notes);
  figures.pr_curves = pr_curve_figures(run);
  figures.images = image_figures(run, figures.notes);
  // A temporary name renamed into place: a report being rewritten is never
  // seen half-written (CheckpointError, a UserError, names the file on failure).
  checkpoint::write_file_atomic(out, render_report_html(run, figures));
  return out;
}

}  // namespace medtrain::report
