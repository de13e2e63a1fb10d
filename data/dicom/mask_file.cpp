#include "data/dicom/mask_file.h"

#include <torch/nn/functional/upsampling.h>

#include "data/data_error.h"
#include "data/io/user_file.h"
#include "data/dicom/dicom_image.h"
#include "data/npy_reader.h"

namespace medtrain::data {
namespace {

bool ends_with(const std::string& s, const std::string& tail) {
  return s.size() >= tail.size() && s.compare(s.size() - tail.size(), tail.size(), tail) == 0;
}

torch::Tensor dicom_mask(const std::string& path, bool volume) {
  const DicomImage image = read_dicom_image(path);
  if (image.pixels.dim() != 3) throw DataError(io::display_path(path) + ": a mask must be a grey image, not colour");
  torch::Tensor values = volume ? image.pixels : image.pixels[0];
  if (!torch::equal(values, values.round())) {
    throw DataError(io::display_path(path) +
                    ": mask pixel values are not whole numbers (a rescale slope/intercept applied?)");
  }
  return values.to(torch::kInt64);
}

}  // namespace

torch::Tensor read_mask(const std::string& path, bool volume, int64_t num_classes) {
  torch::Tensor mask = ends_with(path, ".npy") ? read_npy_as_int64(path) : dicom_mask(path, volume);
  const int64_t want = volume ? 3 : 2;
  if (mask.dim() == want + 1 && mask.size(0) == 1) mask = mask.squeeze(0);  // a leading channel of 1
  if (mask.dim() != want) {
    throw DataError(io::display_path(path) + ": mask has shape " + c10::str(mask.sizes()) + ", expected " +
                    (volume ? "[D, H, W] (a volume)" : "[H, W]"));
  }
  if (mask.numel() == 0) throw DataError(io::display_path(path) + ": mask is empty");
  const int64_t lo = mask.min().item<int64_t>(), hi = mask.max().item<int64_t>();
  if (lo < 0) throw DataError(io::display_path(path) + ": mask holds the negative value " + std::to_string(lo));
  if (num_classes > 0 && hi >= num_classes) {
    throw DataError(io::display_path(path) + ": mask holds class " + std::to_string(hi) + " but model.num_classes is " +
                    std::to_string(num_classes) + " (classes 0.." + std::to_string(num_classes - 1) +
                    ", background included)");
  }
  return mask.contiguous();
}

torch::Tensor resize_mask(const torch::Tensor& mask, const std::vector<int64_t>& size) {
  if (mask.sizes().vec() == size) return mask;
  namespace F = torch::nn::functional;
  const auto x = mask.to(torch::kFloat32).unsqueeze(0).unsqueeze(0);
  const auto y = F::interpolate(x, F::InterpolateFuncOptions().size(size).mode(torch::kNearest));
  return y.squeeze(0).squeeze(0).round().to(torch::kInt64).contiguous();
}

}  // namespace medtrain::data
