#include "data/spatial_augment.h"

#include <torch/nn/functional/vision.h>

#include <cmath>

#include "data/rng.h"

namespace medtrain::data {
namespace {

constexpr double kPi = 3.14159265358979323846;

// The affine_grid matrix for x: [N, C, H, W] -> 2x3, [N, C, D, H, W] -> 3x4
// (grid coordinates are ordered x = W, y = H, z = D; z is left alone).
torch::Tensor theta_for(const torch::Tensor& x, const SpatialWarp& w) {
  const double c = w.crop * std::cos(w.angle), s = w.crop * std::sin(w.angle);
  const int64_t n = x.size(0);
  if (x.dim() == 4) {
    return torch::tensor({c, -s, w.shift_x, s, c, w.shift_y}, torch::kFloat32).view({1, 2, 3}).expand({n, 2, 3});
  }
  return torch::tensor({c, -s, 0.0, w.shift_x, s, c, 0.0, w.shift_y, 0.0, 0.0, 1.0, 0.0}, torch::kFloat32)
      .view({1, 3, 4})
      .expand({n, 3, 4});
}

torch::Tensor resample(const torch::Tensor& x, const SpatialWarp& w, bool nearest) {
  namespace F = torch::nn::functional;
  const auto grid = F::affine_grid(theta_for(x, w), x.sizes().vec(), /*align_corners=*/false);
  auto options = F::GridSampleFuncOptions().align_corners(false);
  if (nearest) {
    options.mode(torch::kNearest).padding_mode(torch::kZeros);
  } else {
    options.mode(torch::kBilinear).padding_mode(torch::kBorder);
  }
  return F::grid_sample(x, grid, options);
}

}  // namespace

SpatialWarp draw_spatial_warp(std::mt19937_64& rng, double max_degrees, double min_crop) {
  SpatialWarp w;
  if (max_degrees == 0 && min_crop >= 1) return w;
  w.angle = uniform(rng, -max_degrees, max_degrees) * kPi / 180.0;
  w.crop = uniform(rng, min_crop, 1.0);
  const double slack = 1.0 - w.crop;
  w.shift_x = uniform(rng, -slack, slack);
  w.shift_y = uniform(rng, -slack, slack);
  return w;
}

torch::Tensor warp_image(const torch::Tensor& image, const SpatialWarp& warp) {
  TORCH_CHECK(image.dim() == 4 || image.dim() == 5, "warp_image expects [N, C, (D,) H, W], got ", image.sizes());
  if (warp.identity()) return image;
  return resample(image.to(torch::kFloat32), warp, /*nearest=*/false);
}

torch::Tensor warp_mask(const torch::Tensor& mask, const SpatialWarp& warp) {
  TORCH_CHECK(mask.dim() == 2 || mask.dim() == 3, "warp_mask expects [(D,) H, W], got ", mask.sizes());
  if (warp.identity()) return mask;
  const auto x = mask.to(torch::kFloat32).unsqueeze(0).unsqueeze(0);
  return resample(x, warp, /*nearest=*/true).squeeze(0).squeeze(0).round().to(torch::kInt64).contiguous();
}

}  // namespace medtrain::data
