#include "trainer/report/report_charts.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <stdexcept>

#include "trainer/metrics/chart.h"
#include "trainer/metrics/png_codec.h"

namespace medtrain::report {

namespace {

constexpr int kChartWidth = 560, kChartHeight = 360;
constexpr const char* kPrPrefix = "val/pr_curve/";

Figure chart_figure(const std::string& caption, const metrics::RasterImage& chart) {
  return {caption, metrics::encode_png(chart), chart.width, chart.height};
}

// train/loss and train/lr lead, the validation metrics follow by name.
std::vector<std::string> curve_order(const RunContents& run) {
  std::vector<std::string> tags;
  for (const char* first : {"train/loss", "train/lr"}) {
    if (run.curves.count(first)) tags.push_back(first);
  }
  for (const auto& [tag, points] : run.curves) {
    if (tag != "train/loss" && tag != "train/lr") tags.push_back(tag);
  }
  return tags;
}

}  // namespace

std::vector<Figure> curve_figures(const RunContents& run, std::vector<std::string>& notes) {
  std::vector<Figure> figures;
  for (const auto& tag : curve_order(run)) {
    const auto& points = run.curves.at(tag);
    metrics::ChartSeries series;
    for (const auto& p : points) {
      series.x.push_back(static_cast<double>(p.step));
      series.y.push_back(p.value);
    }
    if (std::none_of(series.y.begin(), series.y.end(), [](double v) { return std::isfinite(v); })) {
      notes.push_back(fmt::format("curve {}: no finite value logged; not drawn", tag));
      continue;
    }
    const metrics::ChartSpec spec{tag, "step", tag, kChartWidth, kChartHeight, false};
    figures.push_back(chart_figure(fmt::format("{} ({} point{})", tag, points.size(), points.size() == 1 ? "" : "s"),
                                   metrics::render_line_chart(spec, {series})));
  }
  return figures;
}

std::vector<Figure> pr_curve_figures(const RunContents& run) {
  if (run.pr_curves.empty()) return {};
  std::vector<metrics::ChartSeries> series;
  int64_t step = 0;
  for (const auto& v : run.pr_curves) {
    // Rows TP, FP, TN, FN, precision, recall (trainer/metrics/pr_curve.h).
    const int64_t n = v.shape[1];
    metrics::ChartSeries s;
    s.name = v.tag.rfind(kPrPrefix, 0) == 0 ? v.tag.substr(std::string(kPrPrefix).size()) : v.tag;
    s.x.assign(v.floats.begin() + 5 * n, v.floats.begin() + 6 * n);
    s.y.assign(v.floats.begin() + 4 * n, v.floats.begin() + 5 * n);
    series.push_back(std::move(s));
    step = std::max(step, v.step);
  }
  const std::string title = fmt::format("precision-recall at step {}", step);
  const metrics::ChartSpec spec{title, "recall", "precision", kChartWidth, kChartHeight, false};
  return {chart_figure(title, metrics::render_line_chart(spec, series))};
}

std::vector<Figure> image_figures(const RunContents& run, std::vector<std::string>& notes) {
  std::vector<Figure> figures;
  for (const auto& v : run.images) {
    const std::string caption = fmt::format("{} (step {})", v.tag, v.step);
    try {
      const metrics::RasterImage decoded = metrics::decode_png(v.png, caption);
      figures.push_back({caption, v.png, decoded.width, decoded.height});
    } catch (const std::runtime_error& e) {
      notes.push_back(fmt::format("image {}: not a PNG libpng can read ({}); left out", caption, e.what()));
    }
  }
  return figures;
}

}  // namespace medtrain::report
