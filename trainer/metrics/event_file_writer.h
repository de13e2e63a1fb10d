#pragma once
// TensorBoard event files written directly: TFRecord framing (length, masked
// CRC32C, payload, masked CRC32C) around hand-encoded tensorflow.Event protos:
// scalars, images (PNG), text and PR curves (the plugins' tensor formats);
// readable by TensorBoard's own EventAccumulator.
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <string>

#include "trainer/metrics/pr_curve.h"
#include "trainer/metrics/raster_image.h"

namespace medtrain::metrics {

class EventFileWriter {
 public:
  // Creates <dir>/events.out.tfevents.<unix time>.<hostname>.medtrain and
  // writes the file_version record. Throws medtrain::UserError naming the path
  // when the directory cannot be created or the file opened; add_scalar/flush
  // throw std::runtime_error when a write fails (disk full). One thread, one
  // writer per file (rank 0); every scalar is flushed as it is added.
  explicit EventFileWriter(const std::filesystem::path& dir);
  void add_scalar(const std::string& tag, double value, int64_t step);
  // Summary.Value.image {height, width, colorspace, PNG bytes} (the images
  // dashboard). Throws std::invalid_argument for an image encode_png refuses.
  void add_image(const std::string& tag, const RasterImage& image, int64_t step);
  // The text plugin: a DT_STRING tensor holding `markdown`, with plugin
  // metadata {plugin_name: "text"}.
  void add_text(const std::string& tag, const std::string& markdown, int64_t step);
  // The pr_curves plugin: a DT_FLOAT tensor [6, num_thresholds] with plugin
  // metadata {plugin_name: "pr_curves", content: PrCurvePluginData{version 0,
  // num_thresholds}}. Throws std::invalid_argument unless num_thresholds >= 2
  // and data holds 6 * num_thresholds values.
  void add_pr_curve(const std::string& tag, const PrCurve& curve, int64_t step);
  void flush();
  const std::filesystem::path& path() const { return path_; }

 private:
  void write_record(const std::string& payload);
  std::filesystem::path path_;
  std::ofstream out_;
};

}  // namespace medtrain::metrics
