#pragma once
// Raw mode of the image datasets (DicomDatasetOptions::raw_stored_values): a
// 2D sample that the device can preprocess in one kernel
// (kernels/image_preprocess.h, wired in trainer/engine/batch_preprocess.h)
// travels as its stored values, int16 or uint16 [1, H, W] (half the bytes of
// the float image), plus the numbers that kernel needs for it, instead of as
// the float image preprocess_hu makes on the loader's threads.
//
// A sample qualifies when the CPU chain would only window, jitter, normalise
// and flip it: H = W = image_size (no resize), an identity warp (no rotation,
// no zoomed crop), and modality values that are float(q * slope + intercept)
// for a 16-bit q (the shard encoding's test, shard_format.h). Others stay
// float; the loader turns a batch's raw samples into floats with finish_raw
// when the batch mixes both, so a batch is always one or the other.
#include <torch/types.h>

#include <optional>

#include "data/dataset.h"
#include "data/dicom/dicom_dataset.h"

namespace medtrain::data {

// Sample::preprocess of a raw sample: float64 [kRawParams], in this order.
// The window is the linear one of preprocess_hu; mean and std are the
// options' (the same for every sample of a run).
enum RawParam : int64_t {
  kRawSlope, kRawIntercept, kRawCenter, kRawWidth,  // modality LUT, window
  kRawFlip, kRawGain, kRawBias,                     // augmentation: flip, v * gain + bias
  kRawMean, kRawStd,                                // normalisation
  kRawParams
};

// hu: float32 [H, W] modality values; o: the sample's options (its window
// already chosen, as DicomDataset::get does). The raw sample (target left
// empty), or nullopt when the sample does not qualify.
std::optional<Sample> raw_sample(const torch::Tensor& hu, double slope, double intercept,
                                 const DicomDatasetOptions& o, const Augmentation& a);

// The float32 [1, H, W] image preprocess_hu makes of that sample, bit for bit
// (the modality values are recomputed exactly as raw_sample checked them).
// raw: int16/uint16 [1, H, W]; params: float64 [kRawParams].
torch::Tensor finish_raw(const torch::Tensor& raw, const torch::Tensor& params);

}  // namespace medtrain::data
