#include "data/dicom/dicom_dataset.h"

#include <torch/nn/functional/upsampling.h>

#include <algorithm>
#include <filesystem>
#include <optional>
#include <random>

#include "data/data_error.h"
#include "data/dicom/dicom_image.h"
#include "data/image_resize.h"
#include "data/io/user_file.h"
#include "data/dicom/colour_input.h"
#include "data/dicom/mask_file.h"
#include "data/dicom/seg_labels.h"
#include "data/dicom/raw_sample.h"
#include "data/dicom/series_volume.h"
#include "data/dicom/window_normalize.h"
#include "data/rng.h"

namespace medtrain::data {
namespace {

void check_options(const DicomDatasetOptions& o) {
  auto bad = [&](const std::string& what) {
    throw DataError(io::display_path(o.manifest) + ": dataset option " + what);
  };
  if (o.depth < 0) bad("depth must be >= 0 (got " + std::to_string(o.depth) + ")");
  if (o.target != TargetKind::kClass && o.num_classes < 1) bad("num_classes must be >= 1 for this target");
  if (o.target == TargetKind::kMultiLabel && o.num_classes > static_cast<int64_t>(kMaxLabels)) {
    bad("multilabel supports at most " + std::to_string(kMaxLabels) + " labels (got " +
        std::to_string(o.num_classes) + ")");
  }
  if (o.image_size < 1) bad("image_size must be >= 1 (got " + std::to_string(o.image_size) + ")");
  if (!(o.window_width > 0)) bad("window_width must be > 0 (got " + std::to_string(o.window_width) + ")");
  if (!(o.std > 0)) bad("std must be > 0 (got " + std::to_string(o.std) + ")");
  if (!(o.flip_probability >= 0 && o.flip_probability <= 1)) {
    bad("flip_probability must be in [0, 1] (got " + std::to_string(o.flip_probability) + ")");
  }
  if (!(o.intensity_jitter >= 0 && o.intensity_jitter < 1)) {
    bad("intensity_jitter must be in [0, 1) (got " + std::to_string(o.intensity_jitter) + ")");
  }
  if (!(o.rotate_degrees >= 0 && o.rotate_degrees <= 180)) {
    bad("rotate_degrees must be in [0, 180] (got " + std::to_string(o.rotate_degrees) + ")");
  }
  if (!(o.min_crop > 0 && o.min_crop <= 1)) bad("min_crop must be in (0, 1] (got " + std::to_string(o.min_crop) + ")");
  if (o.patch_size < 0 || o.patch_size > o.image_size || (o.patch_size > 0 && o.depth == 0)) {
    bad("patch_size must be 0 or in 1..image_size " + std::to_string(o.image_size) + " for volumes (got " +
        std::to_string(o.patch_size) + (o.depth == 0 ? ", and depth is 0: 2D images" : "") + ")");
  }
  if (!(o.slice_spacing >= 0 && o.pixel_spacing >= 0) || ((o.slice_spacing > 0) != (o.pixel_spacing > 0))) {
    bad("slice_spacing and pixel_spacing must both be 0 (off) or both > 0 mm (got " +
        std::to_string(o.slice_spacing) + ", " + std::to_string(o.pixel_spacing) + ")");
  }
  if (o.slice_spacing > 0 && o.depth == 0) bad("slice_spacing / pixel_spacing apply to volumes: set depth > 0");
  if (o.patch_depth < 0 || o.patch_depth > o.depth) {
    bad("patch_depth must be in 0..depth " + std::to_string(o.depth) + " (got " + std::to_string(o.patch_depth) + ")");
  }
}

void check_target_column(const Manifest& m, const DicomDatasetOptions& o) {
  const auto need = [&](bool has, const char* column, const char* task) {
    if (!has) {
      throw DataError(io::display_path(m.manifest_path) + ": model.task " + task + " needs a '" + column +
                      "' column in the manifest header");
    }
  };
  switch (o.target) {
    case TargetKind::kClass: need(m.has_label, "label", "multiclass"); break;
    case TargetKind::kMultiLabel: need(m.has_labels, "labels", "multilabel"); break;
    case TargetKind::kMask: need(m.has_mask, "mask", "segmentation"); break;
  }
  // Every row, whatever the split, before step 1: a class past the model's
  // outputs would otherwise stop the run (or go unnoticed) when first sampled.
  for (const ManifestRow& r : m.rows) {
    const std::string where = io::display_path(m.manifest_path) + ":" + std::to_string(r.line);
    if (o.target == TargetKind::kMultiLabel) check_label_bits(r.labels, o.num_classes, where);
    if (o.target == TargetKind::kClass) check_class_label(r.label, o.num_classes, where);
  }
}

}  // namespace

void check_label_bits(uint64_t bits, int64_t num_labels, const std::string& where) {
  if (num_labels < 64 && (bits >> num_labels) != 0) {
    throw DataError(where + ": labels name a finding past the " + std::to_string(num_labels) +
                    " labels of model.num_classes");
  }
}

void check_class_label(int64_t label, int64_t num_classes, const std::string& where) {
  if (num_classes > 0 && (label < 0 || label >= num_classes)) {
    throw DataError(where + ": label " + std::to_string(label) + " is not a class of model.num_classes " +
                    std::to_string(num_classes) + " (classes 0.." + std::to_string(num_classes - 1) + ")");
  }
}

torch::Tensor multi_hot(uint64_t bits, int64_t num_labels) {
  auto t = torch::zeros({num_labels}, torch::kFloat32);
  float* p = t.data_ptr<float>();
  for (int64_t i = 0; i < num_labels; ++i) p[i] = static_cast<float>((bits >> i) & 1u);
  return t;
}

Augmentation draw_augmentation(uint64_t rng_seed, const DicomDatasetOptions& o) {
  Augmentation a;
  if (o.patch_size > 0) {
    // A stream of its own: with or without augment, and the draws below stay as they were.
    std::mt19937_64 patch_rng(mix_seed(rng_seed, 0x7061746368ULL));
    const int64_t pd = o.patch_depth > 0 ? o.patch_depth : o.depth;
    a.patch_origin = {static_cast<int64_t>(uniform_below(patch_rng, static_cast<uint64_t>(o.depth - pd + 1))),
                      static_cast<int64_t>(uniform_below(patch_rng, static_cast<uint64_t>(o.image_size - o.patch_size + 1))),
                      static_cast<int64_t>(uniform_below(patch_rng, static_cast<uint64_t>(o.image_size - o.patch_size + 1)))};
  }
  if (!o.augment) return a;
  std::mt19937_64 rng(rng_seed);
  a.flip = uniform01(rng) < o.flip_probability;
  a.scale = 1.0 + uniform(rng, -o.intensity_jitter, o.intensity_jitter);
  a.offset = uniform(rng, -o.intensity_jitter, o.intensity_jitter);
  // Drawn last: a run without rotation or crop keeps the draws above as they were.
  a.warp = draw_spatial_warp(rng, o.rotate_degrees, o.min_crop);
  return a;
}

namespace {

// Window, jitter and normalize in one pass over a run of pixels:
// ((clamp((x - lo) / width, 0, 1) * a.scale + a.offset) - mean) / std.
// Plain ternaries on locals so that the loop vectorises.
struct IntensityMap {
  float lo, inv_width, scale, shift;

  IntensityMap(const DicomDatasetOptions& o, const Augmentation& a)
      : lo(static_cast<float>(o.window_center - o.window_width / 2.0)),
        inv_width(static_cast<float>(1.0 / o.window_width)),
        scale(static_cast<float>(a.scale / o.std)),
        shift(static_cast<float>((a.offset - o.mean) / o.std)) {}

  void operator()(const float* __restrict in, float* __restrict out, int64_t n) const {
    const float l = lo, iw = inv_width, sc = scale, sh = shift;
    for (int64_t i = 0; i < n; ++i) {
      float y = (in[i] - l) * iw;
      y = y < 0.0f ? 0.0f : y;
      y = y > 1.0f ? 1.0f : y;
      out[i] = y * sc + sh;
    }
  }
};

}  // namespace

torch::Tensor window_normalize(const torch::Tensor& hu, const DicomDatasetOptions& o, const Augmentation& a) {
  TORCH_CHECK(hu.scalar_type() == torch::kFloat32, "window_normalize expects float32, got ", hu.scalar_type());
  const torch::Tensor in = hu.contiguous();
  torch::Tensor x = torch::empty(in.sizes(), torch::kFloat32);
  IntensityMap(o, a)(in.data_ptr<float>(), x.data_ptr<float>(), in.numel());
  return x;
}

namespace {

// x: [1, 1, *spatial] -> [1, 1, *size], (bi|tri)linear, antialiased when a 2D image shrinks.
torch::Tensor resize_image(torch::Tensor x, const std::vector<int64_t>& size) {
  if (x.sizes().slice(2).vec() == size) return x;
  namespace F = torch::nn::functional;
  const bool volume = size.size() == 3;
  bool shrinking = false;
  for (size_t i = 0; i < size.size(); ++i) shrinking |= x.size(static_cast<int64_t>(i) + 2) > size[i];
  auto options = F::InterpolateFuncOptions().size(size).align_corners(false);
  if (volume) return F::interpolate(x, options.mode(torch::kTrilinear));  // torch has no antialiased trilinear
  return F::interpolate(x, options.mode(torch::kBilinear).antialias(shrinking));
}

bool shrinks(const torch::Tensor& image, int64_t size) { return image.size(0) > size || image.size(1) > size; }

}  // namespace

torch::Tensor preprocess_hu(const torch::Tensor& hu, const DicomDatasetOptions& o, const Augmentation& a) {
  TORCH_CHECK(hu.dim() == 2 && hu.scalar_type() == torch::kFloat32, "preprocess_hu expects float32 [H, W], got ",
              hu.sizes(), " ", hu.scalar_type());
  torch::Tensor x;
  if (shrinks(hu, o.image_size)) {
    // The same filter as interpolate(antialias=true), several times faster on
    // one slice, reading the windowed values row by row.
    const IntensityMap window(o, a);
    x = resize_bilinear_antialias(hu, o.image_size, o.image_size, std::cref(window)).unsqueeze(0).unsqueeze(0);
  } else {
    x = resize_image(window_normalize(hu, o, a).unsqueeze(0).unsqueeze(0), {o.image_size, o.image_size});
  }
  x = warp_image(x, a.warp);
  if (a.flip) x = x.flip({3});
  return x.squeeze(0).contiguous();  // [1, S, S]
}

namespace {

// The patch of `a` from the last three dimensions of x (a volume or its mask).
torch::Tensor cut_patch(const torch::Tensor& x, const DicomDatasetOptions& o, const Augmentation& a) {
  if (a.patch_origin.empty()) return x;
  const int64_t d = x.dim();
  const int64_t pd = o.patch_depth > 0 ? o.patch_depth : o.depth;
  return x.narrow(d - 3, a.patch_origin[0], pd)
      .narrow(d - 2, a.patch_origin[1], o.patch_size)
      .narrow(d - 1, a.patch_origin[2], o.patch_size)
      .contiguous();
}

}  // namespace

torch::Tensor preprocess_volume(const torch::Tensor& voxels, const DicomDatasetOptions& o, const Augmentation& a) {
  TORCH_CHECK(voxels.dim() == 3 && voxels.scalar_type() == torch::kFloat32,
              "preprocess_volume expects float32 [D, H, W], got ", voxels.sizes(), " ", voxels.scalar_type());
  auto x = resize_image(window_normalize(voxels, o, a).unsqueeze(0).unsqueeze(0), {o.depth, o.image_size, o.image_size});
  x = warp_image(x, a.warp);
  if (a.flip) x = x.flip({4});
  return cut_patch(x.squeeze(0), o, a);  // [1, depth, S, S], or the patch
}

VolumeFit volume_fit(const DicomDatasetOptions& o) {
  VolumeFit f;
  if (o.slice_spacing > 0) {
    f.spacing = {o.slice_spacing, o.pixel_spacing, o.pixel_spacing};
    f.shape = {o.depth, o.image_size, o.image_size};
  }
  return f;
}

torch::Tensor preprocess_mask(const torch::Tensor& mask, const DicomDatasetOptions& o, const Augmentation& a) {
  auto size = o.depth > 0 ? std::vector<int64_t>{o.depth, o.image_size, o.image_size}
                          : std::vector<int64_t>{o.image_size, o.image_size};
  auto x = warp_mask(resize_mask(mask, size), a.warp);
  if (a.flip) x = x.flip({-1}).contiguous();
  return cut_patch(x, o, a);
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
  const Augmentation augmentation = draw_augmentation(rng_seed, options_);
  Sample s;
  std::optional<SeriesVolume> volume;
  if (options_.depth > 0) {
    volume = read_series_volume(describe(index));
    s.image = preprocess_volume(fit_volume(volume->voxels, volume->spacing, volume_fit(options_), describe(index)),
                                options_, augmentation);
  } else {
    const DicomImage image = read_dicom_image(describe(index));
    const DicomImageInfo& info = image.info;
    DicomDatasetOptions o = options_;
    if (o.window_from_file && info.window_center && info.window_width && *info.window_width > 0) {
      o.window_center = *info.window_center;
      o.window_width = *info.window_width;
    }
    if (o.rgb) {  // Note [RGB input]
      s.image = preprocess_rgb(image, o, augmentation);
      s.target = target(index, augmentation, nullptr);
      return s;
    }
    const torch::Tensor hu = grey_frame(image, 0);
    std::optional<Sample> raw;
    const bool grey = image.pixels.dim() == 3;  // colour (palettes too) arrives as luma: no stored values
    if (o.raw_stored_values && grey) raw = raw_sample(hu, info.slope, info.intercept, o, augmentation);
    if (raw) {
      s = std::move(*raw);
    } else {
      s.image = preprocess_hu(hu, o, augmentation);
    }
  }
  s.target = target(index, augmentation, volume ? &*volume : nullptr);
  return s;
}

torch::Tensor DicomDataset::target(size_t index, const Augmentation& augmentation, const SeriesVolume* volume) const {
  const ManifestRow& row = manifest_.rows.at(index);
  switch (options_.target) {
    case TargetKind::kClass:
      return torch::scalar_tensor(row.label, torch::kInt64);
    case TargetKind::kMultiLabel:
      return multi_hot(row.labels, options_.num_classes);
    case TargetKind::kMask: {
      const std::string path = (std::filesystem::path(manifest_.root) / row.mask).string();
      const int64_t n = options_.num_classes;
      torch::Tensor mask = volume != nullptr ? read_volume_mask(path, *volume, n, options_.label_names)
                                             : read_image_mask(path, describe(index), n, options_.label_names);
      if (volume != nullptr) {
        const auto& v = volume->voxels;
        mask = fit_mask(mask, {v.size(0), v.size(1), v.size(2)}, volume->spacing, volume_fit(options_), path);
      }
      return preprocess_mask(mask, options_, augmentation);
    }
  }
  return {};
}

std::shared_ptr<DicomDataset> open_dicom_dataset(const DicomDatasetOptions& options) {
  check_options(options);  // before touching the file system
  ManifestOptions m;
  m.manifest_path = options.manifest;
  m.root = options.root;
  m.split = options.split;
  m.check_files = options.check_files;
  m.paths_are_folders = options.depth > 0;
  m.label_names = options.label_names;
  Manifest manifest = read_manifest(m);
  check_target_column(manifest, options);
  return std::make_shared<DicomDataset>(std::move(manifest), options);
}

}  // namespace medtrain::data
