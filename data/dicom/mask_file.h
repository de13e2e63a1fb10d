#pragma once
// Segmentation masks: one class index per pixel (voxel), read from the file a
// manifest's `mask` column names and brought to the network's input size.
#include <torch/types.h>

#include <cstdint>
#include <string>
#include <vector>

namespace medtrain::data {

// int64 [H, W] (volume = false) or [D, H, W] (volume = true) class indices.
// .npy: any integer/bool array, or floats holding whole numbers (npy_reader.h).
// Anything else is read as DICOM: its pixel values after the modality LUT
// (stored values for a mask without rescale), first frame or all frames.
// Throws DataError naming the file: unreadable, wrong rank, a negative value,
// or a value >= num_classes (when num_classes > 0).
torch::Tensor read_mask(const std::string& path, bool volume, int64_t num_classes);

// Nearest-neighbour resize (torch interpolate mode "nearest", the usual choice
// for label maps: no new class values appear) of [H, W] or [D, H, W] to `size`.
torch::Tensor resize_mask(const torch::Tensor& mask, const std::vector<int64_t>& size);

}  // namespace medtrain::data
