// render_line_chart / render_confusion_matrix: the picture's size, that it is
// not blank, that a line's pixels lie where its data says (through the
// documented plot area), and the refused inputs.
#include <gtest/gtest.h>

#include <algorithm>
#include <array>
#include <cmath>
#include <cstdlib>
#include <limits>
#include <stdexcept>
#include <string>
#include <vector>

#include "tests/trainer/metrics/test_util.h"
#include "trainer/metrics/chart.h"

namespace medtrain::metrics {
namespace {

using testing::expect_throw_with;
using Rgb = std::array<uint8_t, 3>;

bool close_to(const uint8_t* px, const Rgb& c, int tol) {
  for (int k = 0; k < 3; ++k) {
    if (std::abs(static_cast<int>(px[k]) - static_cast<int>(c[k])) > tol) return false;
  }
  return true;
}

// Whether a pixel within `radius` of (x, y) has colour c (lines are antialiased).
bool colour_near(const RasterImage& img, double x, double y, const Rgb& c, int radius = 1, int tol = 40) {
  const auto cx = static_cast<int64_t>(std::floor(x)), cy = static_cast<int64_t>(std::floor(y));
  for (int64_t dy = -radius; dy <= radius; ++dy) {
    for (int64_t dx = -radius; dx <= radius; ++dx) {
      const int64_t px = cx + dx, py = cy + dy;
      if (px < 0 || py < 0 || px >= img.width || py >= img.height) continue;
      if (close_to(img.at(px, py), c, tol)) return true;
    }
  }
  return false;
}

// Data in [0, 1]^2 to pixels: the axes of data spanning exactly [0, 1] are [0, 1].
struct UnitMap {
  PlotArea a;
  double x(double v) const { return a.left + v * (a.right - a.left); }
  double y(double v) const { return a.bottom - v * (a.bottom - a.top); }
};

int64_t non_white(const RasterImage& img) {
  int64_t n = 0;
  for (int64_t y = 0; y < img.height; ++y) {
    for (int64_t x = 0; x < img.width; ++x) n += !close_to(img.at(x, y), {255, 255, 255}, 0);
  }
  return n;
}

TEST(LineChart, HasTheSpecSizeAndIsNotBlank) {
  ChartSpec spec{"loss", "step", "loss", 300, 200, false};
  const auto img = render_line_chart(spec, {{"train", {1, 2, 3}, {0.9, 0.5, 0.4}}});
  EXPECT_EQ(img.width, 300);
  EXPECT_EQ(img.height, 200);
  EXPECT_EQ(img.channels, 3);
  ASSERT_EQ(img.pixels.size(), 300u * 200u * 3u);
  EXPECT_GT(non_white(img), 1000);  // axes, ticks, labels, the line
}

TEST(LineChart, LinesPassWhereTheirDataSays) {
  ChartSpec spec{"two lines", "x", "y", 400, 300, false};
  const auto img = render_line_chart(spec, {{"", {0, 1}, {0, 1}}, {"", {0, 1}, {1, 0}}});
  const UnitMap m{line_chart_plot_area(spec)};
  const Rgb up = series_colour(0), down = series_colour(1);
  ASSERT_NE(up, down);
  EXPECT_TRUE(colour_near(img, m.x(0.25), m.y(0.25), up));
  EXPECT_TRUE(colour_near(img, m.x(0.75), m.y(0.75), up));
  EXPECT_TRUE(colour_near(img, m.x(0.25), m.y(0.75), down));
  EXPECT_TRUE(colour_near(img, m.x(0.75), m.y(0.25), down));
  // The lines cross at the centre; off the lines there is neither colour.
  EXPECT_TRUE(colour_near(img, m.x(0.5), m.y(0.5), up) || colour_near(img, m.x(0.5), m.y(0.5), down));
  EXPECT_FALSE(colour_near(img, m.x(0.5), m.y(0.3), up, 3));
  EXPECT_FALSE(colour_near(img, m.x(0.5), m.y(0.3), down, 3));
  EXPECT_FALSE(colour_near(img, m.x(0.3), m.y(0.5), up, 3));
}

TEST(LineChart, AxesWidenToTheDataRange) {
  // y in [0, 10]: the point y = 5 is half way up, whatever the values.
  ChartSpec spec{"scaled", "x", "y", 400, 300, false};
  const auto img = render_line_chart(spec, {{"", {0, 1}, {5, 5}}, {"", {0, 1}, {0, 10}}});
  const UnitMap m{line_chart_plot_area(spec)};
  EXPECT_TRUE(colour_near(img, m.x(0.2), m.y(0.5), series_colour(0)));
  EXPECT_FALSE(colour_near(img, m.x(0.2), m.y(0.7), series_colour(0), 3));
}

TEST(LineChart, NonFinitePointsBreakTheLine) {
  const double nan = std::numeric_limits<double>::quiet_NaN();
  ChartSpec spec{"gap", "x", "y", 400, 300, false};
  const auto img = render_line_chart(spec, {{"", {0, 0.5, 1}, {0, nan, 1}}});
  const UnitMap m{line_chart_plot_area(spec)};
  const Rgb c = series_colour(0);
  // Both ends are isolated now: dots, and no line between them.
  EXPECT_TRUE(colour_near(img, m.x(1), m.y(1), c));
  EXPECT_TRUE(colour_near(img, m.x(0), m.y(0), c));
  EXPECT_FALSE(colour_near(img, m.x(0.5), m.y(0.5), c, 3));
  EXPECT_FALSE(colour_near(img, m.x(0.25), m.y(0.25), c, 3));
}

TEST(LineChart, UnitSquareFixesTheAxesAndDrawsTheChanceLine) {
  ChartSpec spec{"ROC", "false positive rate", "true positive rate", 400, 300, true};
  // Data in [0.2, 0.4] only: with the unit square it is still drawn at its place in [0, 1].
  const auto img = render_line_chart(spec, {{"", {0.2, 0.4}, {0.8, 0.8}}});
  const UnitMap m{line_chart_plot_area(spec)};
  EXPECT_TRUE(colour_near(img, m.x(0.3), m.y(0.8), series_colour(0)));
  EXPECT_FALSE(colour_near(img, m.x(0.6), m.y(0.8), series_colour(0), 3));
  // The dashed gray diagonal: some pixel along it is gray.
  int gray = 0;
  for (double t = 0.1; t < 0.9; t += 0.01) gray += colour_near(img, m.x(t), m.y(t), {150, 150, 150}, 1, 30);
  EXPECT_GT(gray, 20);
}

TEST(LineChart, LegendAndEmptyInputsDraw) {
  ChartSpec spec{"empty", "x", "y", 320, 240, false};
  EXPECT_GT(non_white(render_line_chart(spec, {})), 500);
  EXPECT_GT(non_white(render_line_chart(spec, {{"nothing finite", {std::nan("")}, {1}}})), 500);
  const auto with = render_line_chart(spec, {{"a long legend entry", {0, 1}, {0, 0}}});
  const auto without = render_line_chart(spec, {{"", {0, 1}, {0, 0}}});
  EXPECT_GT(non_white(with), non_white(without) + 100);
}

TEST(LineChart, RefusesMismatchedSeriesAndBadSizes) {
  ChartSpec spec{"t", "x", "y", 320, 240, false};
  expect_throw_with<std::invalid_argument>([&] { render_line_chart(spec, {{"val/auroc", {1, 2}, {1}}}); },
                                           "series \"val/auroc\" has 2 x values and 1 y values");
  spec.width = 10;
  expect_throw_with<std::invalid_argument>([&] { render_line_chart(spec, {}); }, "size 10x240");
  spec.width = 320, spec.height = 100000;
  expect_throw_with<std::invalid_argument>([&] { render_line_chart(spec, {}); }, "160..4096");
}

// The box around every pixel of exactly colour c (x0, y0, x1, y1 inclusive).
std::array<int64_t, 4> bounding_box(const RasterImage& img, const Rgb& c) {
  std::array<int64_t, 4> box{img.width, img.height, -1, -1};
  for (int64_t y = 0; y < img.height; ++y) {
    for (int64_t x = 0; x < img.width; ++x) {
      if (!close_to(img.at(x, y), c, 0)) continue;
      box[0] = std::min(box[0], x), box[1] = std::min(box[1], y);
      box[2] = std::max(box[2], x), box[3] = std::max(box[3], y);
    }
  }
  return box;
}

const Rgb kFull{8, 48, 107};  // a cell holding its whole row

// The colour the chart gives a share of its row: white to kFull.
Rgb shade(double share) {
  Rgb out;
  for (int k = 0; k < 3; ++k) out[k] = static_cast<uint8_t>(std::lround(255 + (kFull[k] - 255) * share));
  return out;
}

// Cell (t, p) of a k x k grid inside `box`: a point near its top-left corner,
// away from the count written in its centre.
const uint8_t* cell_pixel(const RasterImage& img, const std::array<int64_t, 4>& box, int64_t k, int64_t t, int64_t p,
                          double fx = 0.15, double fy = 0.15) {
  const double w = static_cast<double>(box[2] - box[0] + 1) / k, h = static_cast<double>(box[3] - box[1] + 1) / k;
  return img.at(box[0] + static_cast<int64_t>((p + fx) * w), box[1] + static_cast<int64_t>((t + fy) * h));
}

TEST(ConfusionMatrixChart, DiagonalCellsAreFullAndOffDiagonalEmpty) {
  const auto img = render_confusion_matrix({{10, 0}, {0, 10}}, {"no_lesion", "lesion"}, "val");
  EXPECT_EQ(img.channels, 3);
  ASSERT_EQ(img.pixels.size(), static_cast<size_t>(img.width * img.height * 3));
  const auto box = bounding_box(img, kFull);
  ASSERT_GE(box[2], box[0] + 40) << "no full-share cells drawn";
  EXPECT_NEAR(box[2] - box[0], box[3] - box[1], 2);  // square cells
  EXPECT_TRUE(close_to(cell_pixel(img, box, 2, 0, 0), kFull, 0));
  EXPECT_TRUE(close_to(cell_pixel(img, box, 2, 1, 1), kFull, 0));
  EXPECT_TRUE(close_to(cell_pixel(img, box, 2, 0, 1), {255, 255, 255}, 0));
  EXPECT_TRUE(close_to(cell_pixel(img, box, 2, 1, 0), {255, 255, 255}, 0));
  // The count is written in each cell's centre: white on dark, black on white.
  const auto centre_has = [&](int64_t t, int64_t p, const Rgb& c) {
    for (double f = 0.35; f < 0.65; f += 0.02) {
      for (double g = 0.4; g < 0.6; g += 0.02) {
        if (close_to(cell_pixel(img, box, 2, t, p, f, g), c, 60)) return true;
      }
    }
    return false;
  };
  EXPECT_TRUE(centre_has(0, 0, {255, 255, 255}));
  EXPECT_TRUE(centre_has(0, 1, {0, 0, 0}));
  // Labels and titles outside the grid: dark pixels left of it.
  int64_t dark_left = 0;
  for (int64_t y = box[1]; y <= box[3]; ++y) {
    for (int64_t x = 0; x < box[0] - 2; ++x) dark_left += img.at(x, y)[0] < 128;
  }
  EXPECT_GT(dark_left, 50);
}

TEST(ConfusionMatrixChart, ShadesAreTheShareOfTheRow) {
  const std::vector<std::string> labels{"a", "b"};
  const auto box = bounding_box(render_confusion_matrix({{10, 0}, {0, 10}}, labels, "t"), kFull);
  // Same labels and title: same layout. Row 0 split 1:3, row 1 all in column 1, and an empty row gives white.
  const auto img = render_confusion_matrix({{1, 3}, {0, 4}}, labels, "t");
  EXPECT_TRUE(close_to(cell_pixel(img, box, 2, 0, 0), shade(0.25), 1));
  EXPECT_TRUE(close_to(cell_pixel(img, box, 2, 0, 1), shade(0.75), 1));
  EXPECT_TRUE(close_to(cell_pixel(img, box, 2, 1, 0), {255, 255, 255}, 0));
  EXPECT_TRUE(close_to(cell_pixel(img, box, 2, 1, 1), kFull, 0));
  const auto empty_row = render_confusion_matrix({{0, 0}, {2, 2}}, labels, "t");
  EXPECT_TRUE(close_to(cell_pixel(empty_row, box, 2, 0, 0), {255, 255, 255}, 0));
  EXPECT_TRUE(close_to(cell_pixel(empty_row, box, 2, 1, 0), shade(0.5), 1));
}

TEST(ConfusionMatrixChart, ManyClassesStayBounded) {
  const int64_t k = 300;
  std::vector<std::vector<int64_t>> counts(k, std::vector<int64_t>(k, 0));
  std::vector<std::string> labels;
  for (int64_t i = 0; i < k; ++i) counts[i][i] = 1, labels.push_back("class" + std::to_string(i));
  const auto img = render_confusion_matrix(counts, labels, "many");
  EXPECT_LE(img.width, 2600);
  EXPECT_LE(img.height, 2600);
  const auto box = bounding_box(img, kFull);
  EXPECT_GE(box[2] - box[0], 1000);  // the diagonal spans the grid
}

TEST(ConfusionMatrixChart, RefusesBadShapes) {
  expect_throw_with<std::invalid_argument>([] { render_confusion_matrix({{1, 2}, {3}}, {"a", "b"}, "cm"); },
                                           "row 1 has 1 columns, expected 2");
  expect_throw_with<std::invalid_argument>([] { render_confusion_matrix({{1, 2}, {3, 4}}, {"a"}, "cm"); },
                                           "1 labels for 2 classes");
  expect_throw_with<std::invalid_argument>([] { render_confusion_matrix({}, {}, "cm"); }, "no classes");
  expect_throw_with<std::invalid_argument>([] { render_confusion_matrix({{1, -2}, {3, 4}}, {"a", "b"}, "cm"); },
                                           "negative count -2");
}

}  // namespace
}  // namespace medtrain::metrics
