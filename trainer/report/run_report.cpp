#include "trainer/report/run_report.h"

#include <fmt/format.h>

#include <system_error>

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
// rather than at the rename.
void check_out(const fs::path& out) {
  const fs::path parent = out.has_parent_path() ? out.parent_path() : fs::path(".");
  std::error_code ec;
  if (!fs::is_directory(parent, ec)) {
    throw UserError(fmt::format("report --out {}: the folder {} does not exist", data::io::display_path(out.string()),
                                data::io::display_path(parent.string())));
  }
  if (fs::is_directory(out, ec)) {
    throw UserError(fmt::format("report --out {}: is a folder; name the HTML file to write",
                                data::io::display_path(out.string())));
  }
}

}  // namespace

fs::path write_run_report(const fs::path& run_dir, const fs::path& out) {
  const RunContents run = load_run_contents(run_dir);  // first: a missing RUN_DIR is named as such
  check_out(out);
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
