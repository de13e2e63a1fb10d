#pragma once
// A Dataset over the rows of a CSV manifest (manifest.h) of DICOM files, one
// sample per file. get(i, seed) does, on the calling thread:
//
//   read_dicom_image -> first frame, modality values (HU for CT)   [H, W]
//      (colour files: the BT.601 luma of the RGB values, see grey_frame)
//   -> window:    y = clamp((x - (center - width/2)) / width, 0, 1)
//   -> (augment)  y = y * scale + offset, scale in 1 +- jitter, offset in +- jitter
//   -> normalize: (y - mean) / std
//   -> resize to image_size x image_size: bilinear, align_corners=false,
//      antialiased when shrinking (torch interpolate; aspect ratio not kept)
//   -> (augment)  horizontal flip with probability flip_probability
//   -> image float32 [1, S, S], target int64 scalar (the manifest label)
//
// Augmentation draws only from the rng_seed passed to get(), so a sample is a
// pure function of (index, rng_seed). The same preprocessing without
// augmentation is preprocess_hu(), for inference on new files.
#include <torch/types.h>

#include <cstdint>
#include <memory>
#include <string>

#include "data/dataset.h"
#include "data/manifest.h"

namespace medtrain::data {

struct DicomDatasetOptions {
  std::string manifest;        // path of manifest.csv
  std::string root;            // manifest paths are relative to it; empty = manifest's folder
  std::string split;           // keep rows of this split; empty = all rows
  int64_t image_size = 64;     // output is [1, image_size, image_size]
  double window_center = 40;   // in modality units (HU for CT)
  double window_width = 400;   // > 0
  // Use each file's own first WindowCenter/WindowWidth when it has both (width
  // > 0), the two values above otherwise.
  bool window_from_file = false;
  double mean = 0;             // applied to windowed values in [0, 1]
  double std = 1;              // > 0
  bool augment = false;
  double flip_probability = 0.5;
  double intensity_jitter = 0.05;  // max |scale - 1| and max |offset|
  bool check_files = true;         // every manifest file must exist at open
};

// One sample's random choices; the identity by default.
struct Augmentation {
  bool flip = false;
  double scale = 1.0;
  double offset = 0.0;
};

// Draws an Augmentation from `rng_seed` alone (identity when !options.augment).
Augmentation draw_augmentation(uint64_t rng_seed, const DicomDatasetOptions& options);

// hu: float32 [H, W] modality values -> float32 [1, S, S], as described above.
torch::Tensor preprocess_hu(const torch::Tensor& hu, const DicomDatasetOptions& options,
                            const Augmentation& augmentation = {});

class DicomDataset : public Dataset {
 public:
  DicomDataset(Manifest manifest, DicomDatasetOptions options);
  size_t size() const override;
  Sample get(size_t index, uint64_t rng_seed) const override;  // thread-safe
  std::string describe(size_t index) const override;           // root/path of the file
  int64_t label(size_t index) const override;
  const Manifest& manifest() const { return manifest_; }
  const DicomDatasetOptions& options() const { return options_; }

 private:
  Manifest manifest_;
  DicomDatasetOptions options_;
};

// Reads and checks the manifest (see read_manifest) and the options; throws
// DataError naming the manifest line or the bad option (image_size >= 1,
// window_width > 0, std > 0, flip_probability in [0, 1], intensity_jitter in [0, 1)).
std::shared_ptr<DicomDataset> open_dicom_dataset(const DicomDatasetOptions& options);

}  // namespace medtrain::data
