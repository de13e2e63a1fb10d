#pragma once
// A Dataset over the rows of a CSV manifest (manifest.h) of DICOM files, one
// sample per file. get(i, seed) does, on the calling thread:
//
//   read_dicom_image -> first frame, modality values (HU for CT)   [H, W]
//      (colour files: the BT.601 luma of the RGB values, see grey_frame;
//       with options.rgb each of R, G, B instead: colour_input.h)
//   -> window:    y = clamp((x - (center - width/2)) / width, 0, 1)
//   -> (augment)  y = y * scale + offset, scale in 1 +- jitter, offset in +- jitter
//   -> normalize: (y - mean) / std
//   -> resize to image_size x image_size: bilinear, align_corners=false,
//      antialiased when shrinking (torch interpolate; aspect ratio not kept)
//   -> (augment)  rotation by up to +-rotate_degrees and a crop of side
//      min_crop..1 zoomed back to S x S, one bilinear warp (spatial_augment.h)
//   -> (augment)  horizontal flip with probability flip_probability
//   -> image float32 [1, S, S]
//   -> target (TargetKind): the class, the multi-hot findings, or the mask
//      resized with nearest neighbour to S x S, then warped (nearest) and
//      flipped with the image
//
// Volumes (depth > 0): each manifest path is a series folder, read as one
// volume (series_volume.h), windowed the same way and resized trilinearly to
// [1, depth, S, S]; a mask is [D, H, W] resized with nearest neighbour.
// With patch_size > 0 (training), a random patch of patch_depth x patch_size^2
// is cut from that volume and its mask, at offsets drawn from the sample's
// seed (with or without augment): the usual patch-based training of 3D
// U-Nets, which are fully convolutional and so evaluate on whole volumes.
//
// Augmentation draws only from the rng_seed passed to get(), so a sample is a
// pure function of (index, rng_seed). The same preprocessing without
// augmentation is preprocess_hu(), for inference on new files.
#include <torch/types.h>

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "data/dataset.h"
#include "data/manifest.h"
#include "data/dicom/series_volume.h"
#include "data/spatial_augment.h"
#include "data/volume_fit.h"

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
  double rotate_degrees = 0;       // max |rotation|, in [0, 180]; 0 = no rotation
  double min_crop = 1;             // smallest crop side fraction, in (0, 1]; 1 = no crop
  bool check_files = true;         // every manifest file must exist at open
  TargetKind target = TargetKind::kClass;  // which manifest column becomes the target
  // kClass: labels are 0..n-1 (0 = unchecked); kMultiLabel: length of the
  // target; kMask: masks hold 0..n-1.
  int64_t num_classes = 0;
  int64_t depth = 0;         // 0 = 2D images; D > 0 = series folders resized to D slices
  int64_t patch_size = 0;    // volumes: in-plane side of a random training patch; 0 = whole volume
  int64_t patch_depth = 0;   // slices of that patch (<= depth); 0 = all depth slices
  // Volumes: resample to this voxel spacing (mm between slices, in-plane) and
  // centre-crop/pad to depth x image_size^2 instead of resizing (volume_fit.h).
  // Both 0 = off; both > 0 = on.
  double slice_spacing = 0;
  double pixel_spacing = 0;
  std::vector<std::string> label_names;  // names the manifest's labels column may use
  // 2D only: [3, S, S] samples, colour frames as R, G, B and grey frames
  // replicated (Note [RGB input], colour_input.h); false: [1, S, S], colour as luma.
  bool rgb = false;
  // 2D samples the device can preprocess leave as stored values plus their
  // parameters (raw_sample.h), the others as float images. Training on CUDA
  // with kernels.fused sets it (trainer/engine/preprocess_choice.h).
  bool raw_stored_values = false;
};

// One sample's random choices; the identity by default.
struct Augmentation {
  bool flip = false;
  double scale = 1.0;
  double offset = 0.0;
  SpatialWarp warp;  // rotation + crop; identity by default
  std::vector<int64_t> patch_origin;  // volumes with patch_size: [z, y, x]; empty = whole
};

// Draws an Augmentation from `rng_seed` alone (identity when !options.augment).
Augmentation draw_augmentation(uint64_t rng_seed, const DicomDatasetOptions& options);

// Multilabel targets travel as bit sets (bit i = finding i: manifest rows,
// shard records). Throws DataError "<where>: labels name a finding past the N
// labels of model.num_classes" when a bit at or past num_labels is set.
void check_label_bits(uint64_t bits, int64_t num_labels, const std::string& where);
// Multiclass targets: throws DataError "<where>: label L is not a class of
// model.num_classes N" unless 0 <= label < num_classes (num_classes 0: no check).
void check_class_label(int64_t label, int64_t num_classes, const std::string& where);
// The bit set as float32 [num_labels], 1 where a finding is present.
torch::Tensor multi_hot(uint64_t bits, int64_t num_labels);

// hu: float32 [H, W] modality values -> float32 [1, S, S], as described above.
torch::Tensor preprocess_hu(const torch::Tensor& hu, const DicomDatasetOptions& options,
                            const Augmentation& augmentation = {});
// voxels: float32 [D, H, W] modality values -> float32 [1, depth, S, S].
torch::Tensor preprocess_volume(const torch::Tensor& voxels, const DicomDatasetOptions& options,
                                const Augmentation& augmentation = {});
// The spacing fit the options ask for (disabled without spacing).
VolumeFit volume_fit(const DicomDatasetOptions& options);

// mask: int64 class indices [H, W] (or [D, H, W] when options.depth > 0) ->
// int64 [S, S] ([depth, S, S], or the patch), with the image's warp and flip.
torch::Tensor preprocess_mask(const torch::Tensor& mask, const DicomDatasetOptions& options,
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
  // volume: the sample's series when depth > 0 (its grid and spacing place the mask).
  torch::Tensor target(size_t index, const Augmentation& augmentation, const SeriesVolume* volume) const;

  Manifest manifest_;
  DicomDatasetOptions options_;
};

// Reads and checks the manifest (see read_manifest) and the options; throws
// DataError naming the manifest line or the bad option (image_size >= 1,
// window_width > 0, std > 0, flip_probability in [0, 1], intensity_jitter in [0, 1),
// rotate_degrees in [0, 180], min_crop in (0, 1], patch sizes within the volume),
// or a manifest without the column the target kind needs.
std::shared_ptr<DicomDataset> open_dicom_dataset(const DicomDatasetOptions& options);

}  // namespace medtrain::data
