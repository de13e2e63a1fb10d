// render_confusion_matrix: a heatmap of counts, shaded by each row's share.
#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <stdexcept>

#include "trainer/metrics/cairo_canvas.h"
#include "trainer/metrics/chart.h"

namespace medtrain::metrics {
namespace {

using detail::CairoCanvas;
using detail::Rgb;

constexpr Rgb kBlack{0, 0, 0}, kWhite{255, 255, 255}, kFull{8, 48, 107}, kFrame{110, 110, 110};
constexpr double kPi = 3.14159265358979323846;
constexpr size_t kMaxLabelChars = 24;

void check(const std::vector<std::vector<int64_t>>& counts, const std::vector<std::string>& labels,
           const std::string& title) {
  if (counts.empty()) throw std::invalid_argument("confusion matrix \"" + title + "\": no classes");
  for (size_t t = 0; t < counts.size(); ++t) {
    if (counts[t].size() != counts.size()) {
      throw std::invalid_argument(fmt::format("confusion matrix \"{}\": row {} has {} columns, expected {}", title, t,
                                              counts[t].size(), counts.size()));
    }
    for (int64_t c : counts[t]) {
      if (c < 0) throw std::invalid_argument(fmt::format("confusion matrix \"{}\": negative count {}", title, c));
    }
  }
  if (labels.size() != counts.size()) {
    throw std::invalid_argument(fmt::format("confusion matrix \"{}\": {} labels for {} classes", title, labels.size(),
                                            counts.size()));
  }
}

std::string shorten(const std::string& s) {
  return s.size() <= kMaxLabelChars ? s : s.substr(0, kMaxLabelChars - 3) + "...";
}

// White at share 0 to dark blue at share 1 (matplotlib's "Blues" ends).
Rgb shade(double share) {
  Rgb out;
  for (int k = 0; k < 3; ++k) out[k] = static_cast<uint8_t>(std::lround(kWhite[k] + (kFull[k] - kWhite[k]) * share));
  return out;
}

// Pixel geometry, from the class count and the longest label.
struct Layout {
  double cell = 0, left = 0, top = 0, grid = 0;
  int width = 0, height = 0;
  bool vertical_columns = false;  // column labels turned when wider than a cell
  bool labelled = true;           // class names along the axes (not in cells under 10 px)
};

Layout layout(size_t k, double label_w, double title_w) {
  Layout l;
  const double n = static_cast<double>(k);
  // About 560 px of cells; small classes counts get larger cells, many
  // classes smaller ones (the grid stays within 2000 px).
  l.cell = k <= 2 ? 110.0 : std::min(90.0, std::max(560.0 / n, std::min(14.0, 2000.0 / n)));
  l.labelled = l.cell >= 10;
  if (!l.labelled) label_w = 0;
  l.grid = l.cell * static_cast<double>(k);
  l.vertical_columns = label_w + 6 > l.cell;
  l.left = 30 + label_w + 8;  // "true" turned, then the row labels
  l.top = 40;
  const double below = 8 + (l.vertical_columns ? label_w : 14) + 26;  // column labels, then "predicted"
  l.width = static_cast<int>(std::ceil(std::max(l.left + l.grid + 20, title_w + 20)));
  l.height = static_cast<int>(std::ceil(l.top + l.grid + below));
  return l;
}

void draw_cells(CairoCanvas& c, const std::vector<std::vector<int64_t>>& counts, const Layout& l) {
  cairo_t* cr = c.cr();
  const bool write_counts = l.cell >= 20;
  for (size_t t = 0; t < counts.size(); ++t) {
    int64_t row = 0;
    for (int64_t n : counts[t]) row += n;
    for (size_t p = 0; p < counts.size(); ++p) {
      const double share = row > 0 ? static_cast<double>(counts[t][p]) / static_cast<double>(row) : 0.0;
      const double x = l.left + l.cell * p, y = l.top + l.cell * t;
      c.colour(shade(share));
      cairo_rectangle(cr, x, y, l.cell, l.cell);
      cairo_fill(cr);
      if (!write_counts) continue;
      const std::string text = std::to_string(counts[t][p]);
      double size = std::min(15.0, l.cell * 0.32);
      c.font(size);
      const double w = c.text_width(text);
      if (w > l.cell - 4) c.font(size * (l.cell - 4) / w);  // a large count in a small cell
      c.colour(share > 0.5 ? kWhite : kBlack);
      c.text(text, x + l.cell / 2, y + l.cell / 2, 0.5);
    }
  }
  c.colour(kFrame);
  cairo_set_line_width(cr, 1.0);
  cairo_rectangle(cr, l.left + 0.5, l.top + 0.5, l.grid - 1, l.grid - 1);
  cairo_stroke(cr);
}

void draw_labels(CairoCanvas& c, const std::vector<std::string>& labels, const std::string& title, const Layout& l) {
  c.colour(kBlack);
  c.font(std::min(12.0, l.cell * 0.8));
  for (size_t i = 0; l.labelled && i < labels.size(); ++i) {
    const double mid = l.cell * (static_cast<double>(i) + 0.5);
    c.text(shorten(labels[i]), l.left - 6, l.top + mid, 1.0);
    if (l.vertical_columns) {
      c.text(shorten(labels[i]), l.left + mid, l.top + l.grid + 6, 1.0, -kPi / 2);
    } else {
      c.text(shorten(labels[i]), l.left + mid, l.top + l.grid + 14, 0.5);
    }
  }
  c.font(12, true);
  c.text("predicted", l.left + l.grid / 2, l.height - 13, 0.5);
  c.text("true", 13, l.top + l.grid / 2, 0.5, -kPi / 2);
  c.font(15, true);
  c.text(title, l.width / 2.0, 18, 0.5);
}

}  // namespace

RasterImage render_confusion_matrix(const std::vector<std::vector<int64_t>>& counts,
                                    const std::vector<std::string>& labels, const std::string& title) {
  check(counts, labels, title);
  // Text is measured on a scratch surface before the real one gets its size.
  double label_w = 0, title_w = 0;
  {
    CairoCanvas scratch(1, 1);
    scratch.font(12);
    for (const auto& s : labels) label_w = std::max(label_w, scratch.text_width(shorten(s)));
    scratch.font(15, true);
    title_w = scratch.text_width(title);
  }
  const Layout l = layout(counts.size(), label_w, title_w);
  CairoCanvas canvas(l.width, l.height);
  draw_cells(canvas, counts, l);
  draw_labels(canvas, labels, title, l);
  return canvas.to_raster();
}

}  // namespace medtrain::metrics
