#pragma once
// Charts drawn with cairo (Debian libcairo2-dev) into a RasterImage: ROC and
// PR curves and the confusion matrix for TensorBoard, the loss and metric
// curves of the run report. Text is drawn by cairo's toy font API (DejaVu Sans
// from fonts-dejavu-core when present, any sans otherwise).
#include <array>
#include <cstddef>
#include <cstdint>
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

// The colour of series i (line and legend): the ten "tab10" colours of
// matplotlib, repeating past ten.
std::array<uint8_t, 3> series_colour(size_t i);

// Where render_line_chart puts the axes' box for a spec, in pixels (the
// margins hold the title, tick labels and axis labels). Depends only on the
// size, so a caller (or a test) can map data to pixels: the box spans the
// axis range, which is the data's range widened to whole ticks.
struct PlotArea {
  double left = 0, top = 0, right = 0, bottom = 0;
};
PlotArea line_chart_plot_area(const ChartSpec& spec);

// RGB, spec.width x spec.height (each 160..4096). Axes cover the data's range
// widened to "nice" ticks (1, 2 or 5 x 10^k; a single value gets +-1 or +-5 %
// around it; no finite point at all: [0, 1]), or [0, 1]^2 for unit_square,
// with light grid lines at the ticks. Consecutive finite points are joined; a
// point with no finite neighbour is drawn as a dot. The legend (series with a
// name) goes in the corner of the box that hides the fewest line points:
// upper right first, lower right first for unit_square (where ROC curves
// leave room).
// Throws std::invalid_argument when a series' x and y differ in length or the
// size is out of range.
RasterImage render_line_chart(const ChartSpec& spec, const std::vector<ChartSeries>& series);

// RGB. counts[t][p]: samples of true class t predicted as p. A cell's shade
// is its share of row t (recall colours), its count written inside; rows are
// true classes top to bottom, columns predictions left to right, `labels`
// along both axes. Throws std::invalid_argument when counts is not square or
// labels do not match it.
RasterImage render_confusion_matrix(const std::vector<std::vector<int64_t>>& counts,
                                    const std::vector<std::string>& labels, const std::string& title);

}  // namespace medtrain::metrics
