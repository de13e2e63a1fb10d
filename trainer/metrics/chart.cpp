// render_line_chart: axes with nice ticks, grid, series, legend (cairo).
#include "trainer/metrics/chart.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <stdexcept>
#include <utility>

#include "trainer/metrics/cairo_canvas.h"

namespace medtrain::metrics {
namespace {

using detail::CairoCanvas;
using detail::Rgb;

constexpr Rgb kBlack{0, 0, 0}, kGrid{225, 225, 225}, kChance{150, 150, 150}, kFrame{110, 110, 110};
constexpr int kMinSide = 160, kMaxSide = 4096;
constexpr double kPi = 3.14159265358979323846;

// An axis range widened to whole multiples of a 1/2/5 x 10^k step.
struct Axis {
  double lo = 0, hi = 1, step = 0.2;
};

double nice_step(double raw) {
  const double magnitude = std::pow(10.0, std::floor(std::log10(raw)));
  const double f = raw / magnitude;
  return (f < 1.5 ? 1.0 : f < 3.0 ? 2.0 : f < 7.0 ? 5.0 : 10.0) * magnitude;
}

Axis nice_axis(double lo, double hi) {
  if (!(lo <= hi)) return {};  // no finite data
  if (lo == hi) {
    const double pad = lo == 0 ? 1.0 : std::abs(lo) * 0.05;
    lo -= pad, hi += pad;
  }
  const double step = nice_step((hi - lo) / 5);
  if (!std::isfinite(step) || step <= 0) return {lo, hi, 0};  // a range too wide for ticks
  // The epsilon keeps 0.6 / 0.2 = 2.9999999 from widening the axis a whole step.
  return {std::floor(lo / step + 1e-9) * step, std::ceil(hi / step - 1e-9) * step, step};
}

std::vector<double> ticks(const Axis& a) {
  std::vector<double> out;
  if (a.step <= 0) return {a.lo, a.hi};
  for (int i = 0; i <= 50; ++i) {
    const double v = a.lo + i * a.step;
    if (v > a.hi + a.step * 1e-6) break;
    out.push_back(std::abs(v) < a.step * 1e-9 ? 0.0 : v);  // no "-0.0"
  }
  return out;
}

std::string tick_label(double v, double step) {
  const int decimals = step > 0 ? std::max(0, static_cast<int>(std::ceil(-std::log10(step) - 1e-9))) : 3;
  if (decimals > 4 || std::abs(v) >= 1e6) return fmt::format("{:.3g}", v);
  return fmt::format("{:.{}f}", v, decimals);
}

void check(const ChartSpec& spec, const std::vector<ChartSeries>& series) {
  if (spec.width < kMinSide || spec.width > kMaxSide || spec.height < kMinSide || spec.height > kMaxSide) {
    throw std::invalid_argument(fmt::format("chart \"{}\": size {}x{} is outside {}..{} pixels per side", spec.title,
                                            spec.width, spec.height, kMinSide, kMaxSide));
  }
  for (const auto& s : series) {
    if (s.x.size() != s.y.size()) {
      throw std::invalid_argument(fmt::format("chart \"{}\": series \"{}\" has {} x values and {} y values",
                                              spec.title, s.name, s.x.size(), s.y.size()));
    }
  }
}

struct Ranges {
  Axis x, y;
};

Ranges data_ranges(const ChartSpec& spec, const std::vector<ChartSeries>& series) {
  if (spec.unit_square) return {};
  constexpr double inf = std::numeric_limits<double>::infinity();
  double x_lo = inf, x_hi = -inf, y_lo = inf, y_hi = -inf;
  for (const auto& s : series) {
    for (size_t i = 0; i < s.x.size(); ++i) {
      if (!std::isfinite(s.x[i]) || !std::isfinite(s.y[i])) continue;
      x_lo = std::min(x_lo, s.x[i]), x_hi = std::max(x_hi, s.x[i]);
      y_lo = std::min(y_lo, s.y[i]), y_hi = std::max(y_hi, s.y[i]);
    }
  }
  return {nice_axis(x_lo, x_hi), nice_axis(y_lo, y_hi)};
}

// Maps data coordinates to pixels of the plot area.
struct Mapper {
  PlotArea a;
  Ranges r;
  double px(double x) const { return a.left + (x - r.x.lo) / (r.x.hi - r.x.lo) * (a.right - a.left); }
  double py(double y) const { return a.bottom - (y - r.y.lo) / (r.y.hi - r.y.lo) * (a.bottom - a.top); }
};

void draw_axes(CairoCanvas& c, const ChartSpec& spec, const Mapper& m) {
  cairo_t* cr = c.cr();
  const PlotArea& a = m.a;
  cairo_set_line_width(cr, 1.0);
  c.font(11);
  for (double v : ticks(m.r.x)) {
    const double x = std::round(m.px(v)) + 0.5;
    c.colour(kGrid);
    cairo_move_to(cr, x, a.top), cairo_line_to(cr, x, a.bottom), cairo_stroke(cr);
    c.colour(kBlack);
    c.text(tick_label(v, m.r.x.step), x, a.bottom + 12, 0.5);
  }
  for (double v : ticks(m.r.y)) {
    const double y = std::round(m.py(v)) + 0.5;
    c.colour(kGrid);
    cairo_move_to(cr, a.left, y), cairo_line_to(cr, a.right, y), cairo_stroke(cr);
    c.colour(kBlack);
    c.text(tick_label(v, m.r.y.step), a.left - 5, y, 1.0);
  }
  c.colour(kFrame);
  cairo_rectangle(cr, a.left + 0.5, a.top + 0.5, a.right - a.left - 1, a.bottom - a.top - 1);
  cairo_stroke(cr);
  c.colour(kBlack);
  c.font(12);
  c.text(spec.x_label, (a.left + a.right) / 2, spec.height - 12, 0.5);
  c.text(spec.y_label, 13, (a.top + a.bottom) / 2, 0.5, -kPi / 2);
  c.font(15, true);
  c.text(spec.title, spec.width / 2.0, 17, 0.5);
}

void draw_series(CairoCanvas& c, const Mapper& m, const ChartSeries& s, const Rgb& colour) {
  cairo_t* cr = c.cr();
  c.colour(colour);
  cairo_set_line_width(cr, 2.0);
  cairo_set_line_join(cr, CAIRO_LINE_JOIN_ROUND);
  const auto finite = [&](size_t i) { return i < s.x.size() && std::isfinite(s.x[i]) && std::isfinite(s.y[i]); };
  // Each run of consecutive finite points is one polyline; a run of one point
  // is a dot, or nothing would show.
  for (size_t i = 0; i < s.x.size();) {
    if (!finite(i)) {
      ++i;
      continue;
    }
    size_t end = i;
    while (finite(end + 1)) ++end;
    if (end == i) {
      cairo_arc(cr, m.px(s.x[i]), m.py(s.y[i]), 3.0, 0, 2 * kPi);
      cairo_fill(cr);
    } else {
      cairo_move_to(cr, m.px(s.x[i]), m.py(s.y[i]));
      for (size_t k = i + 1; k <= end; ++k) cairo_line_to(cr, m.px(s.x[k]), m.py(s.y[k]));
      cairo_stroke(cr);
    }
    i = end + 1;
  }
}

// How many points of the lines (vertices and points along each segment) fall
// in a rectangle: the legend goes where it hides the least.
int points_inside(const Mapper& m, const std::vector<ChartSeries>& series, double x0, double y0, double w, double h) {
  int n = 0;
  const auto inside = [&](double x, double y) { return x >= x0 && x <= x0 + w && y >= y0 && y <= y0 + h; };
  for (const auto& s : series) {
    for (size_t i = 0; i < s.x.size(); ++i) {
      if (!std::isfinite(s.x[i]) || !std::isfinite(s.y[i])) continue;
      const double x = m.px(s.x[i]), y = m.py(s.y[i]);
      n += inside(x, y);
      if (i + 1 == s.x.size() || !std::isfinite(s.x[i + 1]) || !std::isfinite(s.y[i + 1])) continue;
      const double x1 = m.px(s.x[i + 1]), y1 = m.py(s.y[i + 1]);
      for (int k = 1; k < 16; ++k) n += inside(x + (x1 - x) * k / 16, y + (y1 - y) * k / 16);
    }
  }
  return n;
}

void draw_legend(CairoCanvas& c, const ChartSpec& spec, const Mapper& m, const std::vector<ChartSeries>& series) {
  std::vector<size_t> named;
  for (size_t i = 0; i < series.size(); ++i) {
    if (!series[i].name.empty()) named.push_back(i);
  }
  if (named.empty()) return;
  cairo_t* cr = c.cr();
  const PlotArea& a = m.a;
  c.font(11);
  double text_w = 0;
  for (size_t i : named) text_w = std::max(text_w, c.text_width(series[i].name));
  const double row = 16, box_w = std::min(36 + text_w, a.right - a.left - 16), box_h = 8 + row * named.size();
  // Corners in order of preference (a ROC curve leaves the lower right free).
  const double left = a.left + 8, right = a.right - 8 - box_w, top = a.top + 8, bottom = a.bottom - 8 - box_h;
  std::vector<std::pair<double, double>> corners = {{right, top}, {right, bottom}, {left, top}, {left, bottom}};
  if (spec.unit_square) std::swap(corners[0], corners[1]);
  double x0 = corners[0].first, y0 = corners[0].second;
  int least = points_inside(m, series, x0, y0, box_w, box_h);
  for (const auto& [x, y] : corners) {
    const int n = points_inside(m, series, x, y, box_w, box_h);
    if (n < least) least = n, x0 = x, y0 = y;
  }
  cairo_rectangle(cr, x0, y0, box_w, box_h);
  c.colour({255, 255, 255}, 0.85);
  cairo_fill_preserve(cr);
  c.colour(kGrid);
  cairo_set_line_width(cr, 1.0);
  cairo_stroke(cr);
  for (size_t k = 0; k < named.size(); ++k) {
    const double y = y0 + 4 + row * (k + 0.5);
    c.colour(series_colour(named[k]));
    cairo_set_line_width(cr, 2.0);
    cairo_move_to(cr, x0 + 6, y), cairo_line_to(cr, x0 + 26, y), cairo_stroke(cr);
    c.colour(kBlack);
    c.text(series[named[k]].name, x0 + 31, y, 0.0);
  }
}

}  // namespace

std::array<uint8_t, 3> series_colour(size_t i) {
  static constexpr std::array<Rgb, 10> kTab10{{{31, 119, 180},
                                               {255, 127, 14},
                                               {44, 160, 44},
                                               {214, 39, 40},
                                               {148, 103, 189},
                                               {140, 86, 75},
                                               {227, 119, 194},
                                               {127, 127, 127},
                                               {188, 189, 34},
                                               {23, 190, 207}}};
  return kTab10[i % kTab10.size()];
}

PlotArea line_chart_plot_area(const ChartSpec& spec) {
  return {68.0, 34.0, spec.width - 16.0, spec.height - 44.0};
}

RasterImage render_line_chart(const ChartSpec& spec, const std::vector<ChartSeries>& series) {
  check(spec, series);
  CairoCanvas canvas(spec.width, spec.height);
  const Mapper m{line_chart_plot_area(spec), data_ranges(spec, series)};
  draw_axes(canvas, spec, m);
  cairo_t* cr = canvas.cr();
  cairo_save(cr);
  // Clip a line's width outside the box, so a curve along an axis (a ROC at
  // FPR 0) shows whole.
  cairo_rectangle(cr, m.a.left - 2, m.a.top - 2, m.a.right - m.a.left + 4, m.a.bottom - m.a.top + 4);
  cairo_clip(cr);
  if (spec.unit_square) {
    const double dash[] = {5.0, 4.0};
    cairo_set_dash(cr, dash, 2, 0);
    cairo_set_line_width(cr, 1.0);
    canvas.colour(kChance);
    cairo_move_to(cr, m.px(0), m.py(0)), cairo_line_to(cr, m.px(1), m.py(1)), cairo_stroke(cr);
    cairo_set_dash(cr, nullptr, 0, 0);
  }
  for (size_t i = 0; i < series.size(); ++i) draw_series(canvas, m, series[i], series_colour(i));
  cairo_restore(cr);
  draw_legend(canvas, spec, m, series);
  return canvas.to_raster();
}

}  // namespace medtrain::metrics
