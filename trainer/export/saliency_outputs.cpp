#include "trainer/export/saliency_outputs.h"

#include <dcmtk/dcmdata/dcuid.h>
#include <fmt/format.h>
#include <torch/torch.h>

#include <algorithm>
#include <cctype>
#include <cstdio>
#include <stdexcept>
#include <system_error>

#include "data/npy_writer.h"
#include "models/cv/saliency.h"
#include "trainer/checkpoint/atomic_file.h"
#include "trainer/export/secondary_capture.h"
#include "trainer/metrics/display_image.h"
#include "trainer/metrics/overlay.h"
#include "trainer/metrics/png_codec.h"
#include "trainer/user_error.h"

namespace medtrain::exporter {
namespace {

namespace fs = std::filesystem;

constexpr double kOverlayAlpha = 0.5;  // heatmap_overlay's blend at a map value of 1

const char* method_name(const std::string& method) { return method == "grad-cam" ? "Grad-CAM" : "occlusion"; }

// The input's file name without extension, reduced to characters that are
// safe in every file system and URL.
std::string safe_stem(const std::string& source) {
  std::string stem = fs::path(source).stem().string();
  for (char& c : stem) {
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '-' && c != '_' && c != '.') c = '_';
  }
  return stem.substr(0, 100);
}

std::string new_uid() {
  char uid[100];
  return dcmGenerateUniqueIdentifier(uid, SITE_SERIES_UID_ROOT);
}

}  // namespace

fs::path saliency_dir(const InferOptions& o) {
  if (!o.saliency_out.empty()) return o.saliency_out;
  return o.out.parent_path() / (o.out.stem().string() + "_saliency");
}

void check_saliency_request(const InferOptions& o, const ModelCard& card) {
  if (o.saliency.empty()) return;
  const std::string flag = "--saliency " + o.saliency;
  if (o.saliency != "grad-cam" && o.saliency != "occlusion") {
    throw UserError("--saliency: '" + o.saliency + "' is not grad-cam or occlusion");
  }
  if (o.saliency_formats.empty()) throw UserError("--saliency-format: name at least one of png, dicom, npy");
  for (const std::string& f : o.saliency_formats) {
    if (f != "png" && f != "dicom" && f != "npy") {
      throw UserError("--saliency-format: '" + f + "' is not png, dicom or npy");
    }
  }
  // Both methods explain a CNN classifier: the same architectures for both.
  try {
    (void)models::cv::grad_cam_layer(card.architecture);
  } catch (const std::invalid_argument& e) {
    throw UserError(flag + ": " + o.model_dir.string() + ": " + e.what());
  }
  if (card.task != "multiclass" && card.task != "multilabel") {
    throw UserError(flag + ": " + o.model_dir.string() + " is a " + card.task + " bundle (" + card.architecture +
                    "); saliency maps explain classifiers");
  }
  if (card.preprocessing.depth > 0) {
    throw UserError(flag + ": " + o.model_dir.string() + " is a 3D bundle (" + card.architecture + ", depth " +
                    std::to_string(card.preprocessing.depth) + "); saliency maps are written for 2D classifiers only");
  }
  std::error_code ec;
  const fs::path dir = saliency_dir(o);
  if (fs::exists(fs::symlink_status(dir, ec))) {
    throw UserError((o.saliency_out.empty() ? "--out " + o.out.string() + ": the saliency folder "
                                            : std::string("--saliency-out ")) +
                    dir.string() + " already exists; saliency maps are never overwritten (remove it or choose another" +
                    (o.saliency_out.empty() ? " --out)" : " folder)"));
  }
}

SaliencyWriter::SaliencyWriter(const InferOptions& o, const ModelCard& card, std::shared_ptr<models::ImageModel> model,
                               const c10::Device& device)
    : card_(card),
      method_(o.saliency),
      formats_(o.saliency_formats),
      dir_(saliency_dir(o)),
      out_dir_(fs::absolute(o.out).parent_path()),
      model_(std::move(model)),
      device_(device) {
  if (!model_) throw std::logic_error("SaliencyWriter: the bundle was loaded without its eval model");
}

torch::Tensor SaliencyWriter::map_of(const torch::Tensor& input, int64_t label) {
  const torch::Tensor x = input.unsqueeze(0).to(device_);
  torch::Tensor map;
  if (method_ == "grad-cam") {
    torch::AutoGradMode grad(true);  // infer's loop runs without gradients; Grad-CAM backpropagates
    map = models::cv::grad_cam(*model_, card_.architecture, x, label);
  } else {
    torch::NoGradGuard no_grad;  // forward passes only
    models::cv::OcclusionOptions options;  // MONAI's defaults, the patch no larger than the picture
    options.mask_size = std::min<int64_t>({options.mask_size, x.size(2), x.size(3)});
    map = models::cv::occlusion(*model_, x, label, options);
  }
  return map.detach()[0][0].to(torch::kCPU, torch::kFloat).contiguous();
}

std::string SaliencyWriter::relative(const fs::path& file) const {
  const fs::path rel = fs::absolute(file).lexically_relative(out_dir_);
  if (rel.empty() || *rel.begin() == "..") return fs::absolute(file).generic_string();
  return rel.generic_string();
}

void SaliencyWriter::write_dicom(const std::string& source, const metrics::RasterImage& picture, int64_t label,
                                 const fs::path& file) {
  // One new series per source series and run, numbered in the order written.
  const std::string source_series = source_series_uid(source);
  auto& [series_uid, instances] = series_.try_emplace(source_series, new_uid(), 0).first->second;
  SecondaryCaptureInfo info;
  info.series_instance_uid = series_uid;
  info.instance_number = ++instances;
  info.series_description = fmt::format("medtrain {} ({})", method_name(method_), card_.architecture);
  const std::string name = label >= 0 && static_cast<size_t>(label) < card_.labels.size()
                               ? card_.labels[static_cast<size_t>(label)]
                               : std::to_string(label);
  info.derivation = fmt::format("{} map of class {} (predicted) by medtrain {} ({}), over the model input "
                                "({}x{}, windowed), colour blended at up to {}",
                                method_name(method_), name, MEDTRAIN_VERSION_STRING, card_.architecture, picture.width,
                                picture.height, kOverlayAlpha);
  write_secondary_capture(source, picture, info, file);
}

SaliencyFiles SaliencyWriter::write(size_t index, const std::string& source, const torch::Tensor& image,
                                    const torch::Tensor& input, int64_t label) {
  const torch::Tensor map = map_of(input, label);
  const metrics::RasterImage base =
      metrics::display_image(image, {card_.preprocessing.mean, card_.preprocessing.std});
  const std::vector<float> heat(map.data_ptr<float>(), map.data_ptr<float>() + map.numel());
  const metrics::RasterImage overlay = metrics::heatmap_overlay(base, heat, kOverlayAlpha);
  if (!dir_made_) {  // with the first map: a run that predicts nothing leaves no folder
    std::error_code ec;
    fs::create_directories(dir_, ec);
    if (ec) throw UserError("--saliency-out: cannot create " + dir_.string() + ": " + ec.message());
    dir_made_ = true;
  }
  char prefix[32];
  std::snprintf(prefix, sizeof(prefix), "%06zu_", index);
  const std::string stem = prefix + safe_stem(source);
  SaliencyFiles files;
  for (const std::string& format : formats_) {
    const fs::path file = dir_ / (stem + (format == "dicom" ? ".dcm" : "." + format));
    if (format == "png") {
      checkpoint::write_file_atomic(file, metrics::encode_png(overlay));
    } else if (format == "npy") {
      data::write_npy_f32(file.string(), map.data_ptr<float>(), map.sizes().vec());
    } else {
      write_dicom(source, overlay, label, file);
    }
    files.emplace_back(format, relative(file));
  }
  ++maps_;
  return files;
}

}  // namespace medtrain::exporter
