#include "trainer/metrics/display_image.h"

#include <fmt/format.h>
#include <torch/torch.h>

#include <cstring>
#include <stdexcept>

namespace medtrain::metrics {
namespace {

// [C, H, W] values meant to lie in [0, 1] -> 8-bit, rounded half up (NaN
// black, +inf white), channels interleaved as RasterImage keeps them.
RasterImage to_raster(const torch::Tensor& unit) {
  const auto bytes = unit.nan_to_num(0.0, 1.0, 0.0)
                         .clamp(0.0, 1.0)
                         .mul(255.0)
                         .add(0.5)
                         .floor()
                         .to(torch::kUInt8)
                         .permute({1, 2, 0})
                         .contiguous();
  RasterImage out(bytes.size(1), bytes.size(0), static_cast<int>(bytes.size(2)));
  std::memcpy(out.pixels.data(), bytes.data_ptr<uint8_t>(), out.pixels.size());
  return out;
}

}  // namespace

RasterImage display_image(const torch::Tensor& image, const DisplayRange& range) {
  if (image.dim() != 3 || image.numel() == 0) {
    throw std::invalid_argument(
        fmt::format("display_image: expected a non-empty [C, H, W] picture, got {} dimensions and {} values",
                    image.dim(), image.numel()));
  }
  const int64_t channels = image.size(0) == 3 ? 3 : 1;
  const auto x = image.detach().narrow(0, 0, channels).to(torch::kCPU, torch::kDouble);
  if (image.is_floating_point()) return to_raster(x * range.std + range.mean);
  // Stored values: no window is known here, so the picture's own range.
  const double lo = x.min().item<double>(), hi = x.max().item<double>();
  return to_raster(hi > lo ? (x - lo) / (hi - lo) : torch::zeros_like(x));
}

std::array<torch::Tensor, 3> middle_slices(const torch::Tensor& volume) {
  if (volume.dim() < 3) {
    throw std::invalid_argument(
        fmt::format("middle_slices: expected a volume [(C,) D, H, W], got {} dimensions", volume.dim()));
  }
  const int64_t d = volume.dim() - 3;  // the slice axis
  return {volume.select(d, volume.size(d) / 2), volume.select(d + 1, volume.size(d + 1) / 2),
          volume.select(d + 2, volume.size(d + 2) / 2)};
}

std::vector<int64_t> mask_labels(const torch::Tensor& mask) {
  if (mask.dim() != 2) {
    throw std::invalid_argument(fmt::format("mask_labels: expected a class map [H, W], got {} dimensions", mask.dim()));
  }
  const auto flat = mask.detach().to(torch::kCPU, torch::kLong).contiguous().reshape({-1});
  const int64_t* p = flat.data_ptr<int64_t>();
  return std::vector<int64_t>(p, p + flat.numel());
}

}  // namespace medtrain::metrics
