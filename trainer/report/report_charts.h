#pragma once
// The pictures of the run report: curves and PR curves drawn with
// render_line_chart (cairo), and the images the run logged to TensorBoard.
#include <string>
#include <vector>

#include "trainer/report/html_page.h"
#include "trainer/report/run_contents.h"

namespace medtrain::report {

// One chart per curve over steps: train/loss, train/lr, then every val/*
// tag by name. A curve with no finite value is left out (noted).
std::vector<Figure> curve_figures(const RunContents& run, std::vector<std::string>& notes);

// One chart of precision over recall with a series per PR curve tag (its
// name after "val/pr_curve/"); empty when the run logged none.
std::vector<Figure> pr_curve_figures(const RunContents& run);

// The logged images captioned "<tag> (step N)". Bytes libpng does not decode
// are left out (noted), so the page never shows a broken picture.
std::vector<Figure> image_figures(const RunContents& run, std::vector<std::string>& notes);

}  // namespace medtrain::report
