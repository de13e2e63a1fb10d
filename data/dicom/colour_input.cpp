#include "data/dicom/colour_input.h"

#include <torch/torch.h>

namespace medtrain::data {

torch::Tensor preprocess_rgb(const DicomImage& image, const DicomDatasetOptions& o, const Augmentation& a) {
  const torch::Tensor frame = image.pixels[0];
  if (frame.dim() == 2) return preprocess_hu(frame.contiguous(), o, a).expand({3, -1, -1}).contiguous();
  std::vector<torch::Tensor> channels;
  for (int64_t c = 0; c < 3; ++c) channels.push_back(preprocess_hu(frame.select(2, c).contiguous(), o, a));
  return torch::cat(channels, 0);  // [3, S, S]
}

}  // namespace medtrain::data
