#pragma once
// The intensity steps of preprocess_hu (dicom_dataset.h) alone: window,
// jitter and normalisation, without resize, warp or flip. Defined in
// dicom_dataset.cpp beside the pipeline that uses it, so both stay one code
// path. `medtrain inspect --png` shows a frame through it.
#include <torch/types.h>

#include "data/dicom/dicom_dataset.h"

namespace medtrain::data {

// float32 modality values of any shape -> float32 of the same shape:
// ((clamp((x - lo) / width, 0, 1) * scale + offset) - mean) / std with
// lo = center - width / 2, in the same float32 arithmetic as training.
torch::Tensor window_normalize(const torch::Tensor& hu, const DicomDatasetOptions& options,
                               const Augmentation& augmentation = {});

}  // namespace medtrain::data
