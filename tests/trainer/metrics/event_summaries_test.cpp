// EventFileWriter's images, text and PR curves read back by TensorBoard's own
// EventAccumulator (read_tensorboard_plugins.py): the PNGs decoded by PIL,
// the tensors by tensorboard's make_ndarray, the pr_curves metadata by the
// plugin's own parser.
#include <gtest/gtest.h>

#include <cstdint>
#include <filesystem>
#include <stdexcept>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "tests/trainer/metrics/python_json.h"
#include "tests/trainer/metrics/test_util.h"
#include "trainer/metrics/event_file_writer.h"

namespace medtrain::metrics {
namespace {

using testing::TempDir;

RasterImage pattern(int64_t w, int64_t h, int channels, int seed) {
  RasterImage img(w, h, channels);
  for (size_t i = 0; i < img.pixels.size(); ++i) img.pixels[i] = static_cast<uint8_t>((i * 29 + seed) % 256);
  return img;
}

// TP, FP, TN, FN, precision, recall rows of 5 thresholds: any numbers will do,
// the plugin's format is what is checked.
PrCurve curve_of_five() {
  PrCurve c;
  c.num_thresholds = 5;
  for (int row = 0; row < 6; ++row) {
    for (int i = 0; i < 5; ++i) c.data.push_back(row < 4 ? static_cast<float>(10 * row + i) : 0.125f * (i + row));
  }
  return c;
}

std::vector<int> ints(const nlohmann::json& list) { return list.get<std::vector<int>>(); }

TEST(EventSummaries, TensorBoardReadsImagesTextAndPrCurves) {
  if (std::string(MEDTRAIN_PYTHON).empty()) GTEST_SKIP() << "configured without MEDTRAIN_PYTHON";
  TempDir tmp;
  const auto dir = tmp.path() / "tb";
  const RasterImage gray = pattern(6, 4, 1, 3), rgb = pattern(5, 7, 3, 8), rgba = pattern(3, 2, 4, 1);
  const std::string markdown = "| sample | predicted |\n|---|---|\n| 1 | **pneumonia** (0.93) — ≥ 0.5 |";
  const PrCurve pr = curve_of_five();
  {
    EventFileWriter writer(dir);
    writer.add_image("train/batch", gray, 0);
    writer.add_image("train/batch", rgb, 10);
    writer.add_image("val/overlay", rgba, 10);
    writer.add_text("val/examples", markdown, 3);
    writer.add_pr_curve("val/pr/pneumonia", pr, 7);
    writer.add_scalar("train/loss", 0.5, 7);
  }
  const auto got = testing::run_python_json("tests/trainer/metrics/read_tensorboard_plugins.py", {dir.string()},
                                            tmp.path());
  ASSERT_TRUE(got.is_object());

  const auto& images = got.at("images");
  ASSERT_EQ(images.size(), 2u) << images.dump();
  const auto& batch = images.at("train/batch");
  ASSERT_EQ(batch.size(), 2u);
  const std::vector<std::pair<int64_t, const RasterImage*>> want = {{0, &gray}, {10, &rgb}};
  for (size_t i = 0; i < want.size(); ++i) {
    SCOPED_TRACE(i);
    const auto& e = batch[i];
    const RasterImage& img = *want[i].second;
    EXPECT_EQ(e.at("step"), want[i].first);
    EXPECT_EQ(e.at("width"), img.width);  // the Image proto's fields
    EXPECT_EQ(e.at("height"), img.height);
    EXPECT_EQ(e.at("png").at("width"), img.width);  // the PNG itself, as PIL decodes it
    EXPECT_EQ(e.at("png").at("height"), img.height);
    EXPECT_EQ(e.at("png").at("mode"), img.channels == 1 ? "L" : "RGB");
    EXPECT_EQ(ints(e.at("png").at("pixels")), std::vector<int>(img.pixels.begin(), img.pixels.end()));
  }
  const auto& overlay = images.at("val/overlay").at(0);
  EXPECT_EQ(overlay.at("png").at("mode"), "RGBA");
  EXPECT_EQ(ints(overlay.at("png").at("pixels")), std::vector<int>(rgba.pixels.begin(), rgba.pixels.end()));

  const auto& tensors = got.at("tensors");
  ASSERT_EQ(tensors.size(), 2u) << tensors.dump();
  const auto& text = tensors.at("val/examples").at(0);
  EXPECT_EQ(text.at("step"), 3);
  EXPECT_EQ(text.at("dtype"), 7);  // DT_STRING
  EXPECT_EQ(text.at("shape"), nlohmann::json::array());
  EXPECT_EQ(text.at("values"), nlohmann::json::array({markdown}));
  EXPECT_EQ(got.at("metadata").at("val/examples").at("plugin"), "text");
  EXPECT_EQ(got.at("metadata").at("val/examples").at("content_hex"), "");

  const auto& curve = tensors.at("val/pr/pneumonia").at(0);
  EXPECT_EQ(curve.at("step"), 7);
  EXPECT_EQ(curve.at("dtype"), 1);  // DT_FLOAT
  EXPECT_EQ(curve.at("shape"), nlohmann::json::array({6, 5}));
  EXPECT_EQ(curve.at("values").get<std::vector<float>>(), pr.data);
  const auto& meta = got.at("metadata").at("val/pr/pneumonia");
  EXPECT_EQ(meta.at("plugin"), "pr_curves");
  EXPECT_EQ(meta.at("num_thresholds"), 5);
  EXPECT_EQ(meta.at("version"), 0);

  // What TensorBoard's web UI serves: images as [width, height, png...]
  // string tensors of the images plugin (DATA_CLASS_BLOB_SEQUENCE = 3), text
  // and PR curves as tensors (DATA_CLASS_TENSOR = 2).
  const auto& ui = got.at("ui");
  EXPECT_EQ(ui.at("train/batch").at("plugin"), "images");
  EXPECT_EQ(ui.at("train/batch").at("data_class"), 3);
  EXPECT_EQ(ui.at("train/batch").at("shapes"), nlohmann::json::parse("[[3], [3]]"));
  EXPECT_EQ(ui.at("val/examples").at("plugin"), "text");
  EXPECT_EQ(ui.at("val/examples").at("data_class"), 2);
  EXPECT_EQ(ui.at("val/pr/pneumonia").at("plugin"), "pr_curves");
  EXPECT_EQ(ui.at("val/pr/pneumonia").at("data_class"), 2);
  EXPECT_EQ(ui.at("val/pr/pneumonia").at("shapes"), nlohmann::json::parse("[[6, 5]]"));
}

TEST(EventSummaries, RefusedValuesLeaveTheFileReadable) {
  TempDir tmp;
  EventFileWriter writer(tmp.path());
  writer.add_scalar("x", 1.0, 1);
  const auto size = std::filesystem::file_size(writer.path());
  testing::expect_throw_with<std::invalid_argument>([&] { writer.add_image("img", RasterImage(0, 0, 1), 1); },
                                                    "empty image");
  testing::expect_throw_with<std::invalid_argument>([&] { writer.add_image("img", RasterImage(2, 2, 2), 1); },
                                                    "2 channels");
  PrCurve bad = curve_of_five();
  bad.data.pop_back();
  testing::expect_throw_with<std::invalid_argument>([&] { writer.add_pr_curve("val/pr/a", bad, 1); },
                                                    "PR curve val/pr/a: 29 values for 5 thresholds");
  PrCurve one;
  one.num_thresholds = 1;
  one.data.assign(6, 0.0f);
  testing::expect_throw_with<std::invalid_argument>([&] { writer.add_pr_curve("val/pr/b", one, 1); },
                                                    "num_thresholds >= 2");
  EXPECT_EQ(std::filesystem::file_size(writer.path()), size);  // nothing half-written
}

}  // namespace
}  // namespace medtrain::metrics
