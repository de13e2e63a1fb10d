#pragma once
// `medtrain infer --saliency grad-cam|occlusion`: where a 2D CNN classifier
// looked, for each input, as files a person or a PACS can open
// (docs/inference.md, "Saliency"):
//   <stem>.png  the map over the input as the model saw it (windowed,
//               resized, de-normalised for display; metrics::heatmap_overlay)
//   <stem>.dcm  the same RGB picture as a DICOM Secondary Capture in the
//               source's study, referencing the source instance
//               (secondary_capture.h)
//   <stem>.npy  the map itself, float32 [S, S] in [0, 1], 1 = most important
// with <stem> = the input's index in the run (6 digits, the order of the
// predictions file) and its file name without extension, e.g.
// 000003_IM0001: unique when several folders hold the same file names, and
// sorted as the predictions are. The map is for the predicted class: the
// argmax of the bundle's logits, the label in the predictions file (for
// multilabel bundles: the label with the highest probability).
//
// Maps come from the bundle's unfused eval-mode model (the inference graph
// runs under InferenceMode and cannot backpropagate), one input at a time.
#include <torch/types.h>

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "models/image_model.h"
#include "trainer/export/inference.h"
#include "trainer/metrics/raster_image.h"

namespace medtrain::exporter {

// --saliency-out, or <out folder>/<out stem>_saliency/ when not given.
std::filesystem::path saliency_dir(const InferOptions& options);

// UserError unless the saliency flags can be honoured, before any work:
// a known method and formats, a 2D classifier whose architecture has a
// convolution layer to explain (the error names the architecture), and an
// output folder that does not exist yet (maps are never overwritten).
void check_saliency_request(const InferOptions& options, const ModelCard& card);

// A saliency file per input and format: format ("png", "dicom", "npy") ->
// the path relative to the folder of --out (absolute when not below it).
using SaliencyFiles = std::vector<std::pair<std::string, std::string>>;

class SaliencyWriter {
 public:
  // `model`: the bundle's eval-mode model (LoadedModel::eval_model).
  SaliencyWriter(const InferOptions& options, const ModelCard& card, std::shared_ptr<models::ImageModel> model,
                 const c10::Device& device);

  // The map of input `index` (file `source`) for class `label`: `image` is
  // the sample as the dataset gave it [C, S, S] (C = 1 gray, 3 RGB), `input`
  // what the model receives [in_channels, S, S]. Writes its files.
  SaliencyFiles write(size_t index, const std::string& source, const torch::Tensor& image,
                      const torch::Tensor& input, int64_t label);

  size_t maps() const { return maps_; }
  const std::filesystem::path& dir() const { return dir_; }

 private:
  torch::Tensor map_of(const torch::Tensor& input, int64_t label);  // [S, S] float32 on the CPU, 1 = most important
  std::string relative(const std::filesystem::path& file) const;
  void write_dicom(const std::string& source, const metrics::RasterImage& picture, int64_t label,
                   const std::filesystem::path& file);

  const ModelCard& card_;
  std::string method_;
  std::vector<std::string> formats_;
  std::filesystem::path dir_, out_dir_;
  std::shared_ptr<models::ImageModel> model_;
  c10::Device device_;
  bool dir_made_ = false;
  size_t maps_ = 0;
  // Source Series Instance UID -> the Secondary Capture series made for it
  // in this run and the instances written to it so far.
  std::map<std::string, std::pair<std::string, int>> series_;
};

}  // namespace medtrain::exporter
