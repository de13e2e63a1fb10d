// render_line_chart / render_confusion_matrix: the picture's size, that it is
// not blank, that a line's pixels lie where its data says (through the
// documented plot area), and the refused inputs.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdlib>
#include <limits>
#include <stdexcept>

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

}  // namespace
}  // namespace medtrain::metrics
