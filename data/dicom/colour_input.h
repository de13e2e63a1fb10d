#pragma once
// data.colour rgb: a 2D sample as three channels instead of one grey channel.
//
// Note [RGB input]
// Each channel of a colour frame (RGB after decoding: YBR_* converted, PALETTE
// COLOR looked up, docs/dicom.md) goes through exactly the grey pipeline of
// preprocess_hu: the same window, jitter, normalisation, resize, warp and flip
// (one Augmentation for all three, so the channels stay aligned). The window
// is shared by the channels, so pick it for the colour range: photographs
// and secondary captures hold 0..255, i.e. window_center 127.5, window_width
// 255 (16-bit palettes 0..65535). A grey frame is windowed once and
// replicated, which is what an RGB-pretrained first convolution expects of a
// grey image.
#include <torch/types.h>

#include "data/dicom/dicom_dataset.h"
#include "data/dicom/dicom_image.h"

namespace medtrain::data {

// float32 [3, S, S] of frame 0 of `image` (grey [F, H, W] or colour [F, H, W, 3]).
torch::Tensor preprocess_rgb(const DicomImage& image, const DicomDatasetOptions& options,
                             const Augmentation& augmentation = {});

}  // namespace medtrain::data
