#include "data/dicom/dicom_image.h"

namespace medtrain::data {

DicomImage read_dicom_image(const std::string& path) {
  torch::Tensor pixels;
  DicomImageInfo info = decode_dicom(path, [&](const std::vector<int64_t>& shape) {
    pixels = torch::empty(shape, torch::kFloat32);
    return pixels.data_ptr<float>();
  });
  return DicomImage{std::move(pixels), std::move(info)};
}

torch::Tensor grey_frame(const DicomImage& image, int64_t frame) {
  const torch::Tensor f = image.pixels[frame];
  if (f.dim() == 2) return f;
  return f.select(2, 0) * 0.299f + f.select(2, 1) * 0.587f + f.select(2, 2) * 0.114f;
}

}  // namespace medtrain::data
