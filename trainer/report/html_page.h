#pragma once
// The run report as one HTML page: no script, no stylesheet or font from
// elsewhere, every picture a PNG data: URI, so the file alone is the report.
// Everything that comes from the run (names, tags, config, values) is
// escaped with html_escape.
#include <cstdint>
#include <string>
#include <vector>

#include "trainer/report/run_contents.h"

namespace medtrain::report {

// A picture on the page with its caption.
struct Figure {
  std::string caption;
  std::string png;  // PNG file bytes
  int64_t width = 0, height = 0;  // its pixels
};

struct ReportFigures {
  std::vector<Figure> curves;     // loss, learning rate, validation metrics
  std::vector<Figure> pr_curves;  // precision-recall charts
  std::vector<Figure> images;     // example images logged to TensorBoard
  std::vector<std::string> notes; // besides run.notes: what was left out and why
};

// The whole page (UTF-8).
std::string render_report_html(const RunContents& run, const ReportFigures& figures);

}  // namespace medtrain::report
