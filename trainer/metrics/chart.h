#pragma once
// Charts drawn with cairo (Debian libcairo2-dev) into a RasterImage: ROC and
// PR curves and the confusion matrix for TensorBoard, the loss and metric
// curves of the run report. Text is drawn by cairo's toy font API (DejaVu Sans
// from fonts-dejavu-core when present, any sans otherwise).
#include <string>
#include <vector>

#include "trainer/metrics/raster_image.h"

namespace medtrain::metrics {

struct ChartSeries {
  std::string name;  // in the legend; empty: no legend entry
  std::vector<double> x, y;  // same length; non-finite points are skipped
};

struct ChartSpec {
  std::string title, x_label, y_label;
  int width = 640, height = 480;
  // ROC: both axes fixed to [0, 1] with the chance diagonal drawn dashed.
  bool unit_square = false;
};

// RGB. Axes cover the data's range (or [0, 1]^2 for unit_square), with ticks
// and labels; one colour per series (class_colour order). Throws
// std::invalid_argument when a series' x and y differ in length.
RasterImage render_line_chart(const ChartSpec& spec, const std::vector<ChartSeries>& series);

// RGB. counts[t][p]: samples of true class t predicted as p. A cell's shade
// is its share of row t (recall colours), its count written inside; rows are
// true classes top to bottom, columns predictions left to right, `labels`
// along both axes. Throws std::invalid_argument when counts is not square or
// labels do not match it.
RasterImage render_confusion_matrix(const std::vector<std::vector<int64_t>>& counts,
                                    const std::vector<std::string>& labels, const std::string& title);

}  // namespace medtrain::metrics
