#include "data/dicom_dataset.h"

#include <torch/nn/functional/upsampling.h>

#include <algorithm>
#include <filesystem>
#include <random>

#include "data/data_error.h"
#include "data/dicom_image.h"
#include "data/rng.h"

namespace medtrain::data {
namespace {

void check_options(const DicomDatasetOptions& o) {
  auto bad = [&](const std::string& what) { throw DataError(o.manifest + ": dataset option " + what); };
  if (o.image_size < 1) bad("image_size must be >= 1 (got " + std::to_string(o.image_size) + ")");
  if (!(o.window_width > 0)) bad("window_width must be > 0 (got " + std::to_string(o.window_width) + ")");
  if (!(o.std > 0)) bad("std must be > 0 (got " + std::to_string(o.std) + ")");
  if (!(o.flip_probability >= 0 && o.flip_probability <= 1)) {
    bad("flip_probability must be in [0, 1] (got " + std::to_string(o.flip_probability) + ")");
  }
  if (!(o.intensity_jitter >= 0 && o.intensity_jitter < 1)) {
    bad("intensity_jitter must be in [0, 1) (got " + std::to_string(o.intensity_jitter) + ")");
  }
}

}  // namespace

Augmentation draw_augmentation(uint64_t rng_seed, const DicomDatasetOptions& o) {
  Augmentation a;
  if (!o.augment) return a;
  std::mt19937_64 rng(rng_seed);
  a.flip = uniform01(rng) < o.flip_probability;
  a.scale = 1.0 + uniform(rng, -o.intensity_jitter, o.intensity_jitter);
  a.offset = uniform(rng, -o.intensity_jitter, o.intensity_jitter);
  return a;
}

torch::Tensor preprocess_hu(const torch::Tensor& hu, const DicomDatasetOptions& o, const Augmentation& a) {
  TORCH_CHECK(hu.dim() == 2 && hu.scalar_type() == torch::kFloat32, "preprocess_hu expects float32 [H, W], got ",
              hu.sizes(), " ", hu.scalar_type());
  // Window, jitter and normalize in one pass over the pixels: five separate
  // tensor ops cost more than the decode of an uncompressed 512x512 slice.
  const torch::Tensor in = hu.contiguous();
  torch::Tensor x = torch::empty({1, 1, hu.size(0), hu.size(1)}, torch::kFloat32);
  const float lo = static_cast<float>(o.window_center - o.window_width / 2.0);
  const float inv_width = static_cast<float>(1.0 / o.window_width);
  const float scale = static_cast<float>(a.scale / o.std);
  const float shift = static_cast<float>((a.offset - o.mean) / o.std);
  const float* src = in.data_ptr<float>();
  float* dst = x.data_ptr<float>();
  for (int64_t i = 0, n = in.numel(); i < n; ++i) {
    const float y = std::min(1.0f, std::max(0.0f, (src[i] - lo) * inv_width));
    dst[i] = y * scale + shift;  // ((y * a.scale + a.offset) - mean) / std
  }
  const int64_t s = o.image_size;
  if (x.size(2) != s || x.size(3) != s) {
    namespace F = torch::nn::functional;
    const bool shrinking = x.size(2) > s || x.size(3) > s;
    x = F::interpolate(x, F::InterpolateFuncOptions()
                              .size(std::vector<int64_t>{s, s})
                              .mode(torch::kBilinear)
                              .align_corners(false)
                              .antialias(shrinking));
  }
  if (a.flip) x = x.flip({3});
  return x.squeeze(0).contiguous();  // [1, S, S]
}

DicomDataset::DicomDataset(Manifest manifest, DicomDatasetOptions options)
    : manifest_(std::move(manifest)), options_(std::move(options)) {
  check_options(options_);
}

size_t DicomDataset::size() const { return manifest_.rows.size(); }

std::string DicomDataset::describe(size_t index) const {
  return (std::filesystem::path(manifest_.root) / manifest_.rows.at(index).path).string();
}

int64_t DicomDataset::label(size_t index) const { return manifest_.rows.at(index).label; }

Sample DicomDataset::get(size_t index, uint64_t rng_seed) const {
  const DicomImage image = read_dicom_image(describe(index));
  const torch::Tensor first_frame = grey_frame(image, 0);
  Sample s;
  const DicomImageInfo& info = image.info;
  if (options_.window_from_file && info.window_center && info.window_width && *info.window_width > 0) {
    DicomDatasetOptions o = options_;
    o.window_center = *info.window_center;
    o.window_width = *info.window_width;
    s.image = preprocess_hu(first_frame, o, draw_augmentation(rng_seed, options_));
  } else {
    s.image = preprocess_hu(first_frame, options_, draw_augmentation(rng_seed, options_));
  }
  s.target = torch::scalar_tensor(label(index), torch::kInt64);
  return s;
}

std::shared_ptr<DicomDataset> open_dicom_dataset(const DicomDatasetOptions& options) {
  check_options(options);  // before touching the file system
  ManifestOptions m;
  m.manifest_path = options.manifest;
  m.root = options.root;
  m.split = options.split;
  m.check_files = options.check_files;
  return std::make_shared<DicomDataset>(read_manifest(m), options);
}

}  // namespace medtrain::data
