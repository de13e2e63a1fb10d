#pragma once
// The device half of raw image batches (data/dicom/raw_sample.h): stored
// values already on the device plus their per-sample parameters (CPU) ->
// the normalised float32 images the CPU chain would have made, in one
// kernels::preprocess_images launch on the current stream.
#include <ATen/core/Tensor.h>

#include "data/batch_loader.h"

namespace medtrain::engine {

// batch.images: int16/uint16 [B, 1, H, W] on any device; batch.preprocess:
// float64 [B, kRawParams] on the CPU. Returns float32 [B, 1, H, W] on the
// images' device, channels_last memory when asked. Float batches (preprocess
// undefined) come back as they are.
at::Tensor batch_images(const data::Batch& batch, bool channels_last);

}  // namespace medtrain::engine
