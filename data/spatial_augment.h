#pragma once
// Geometric augmentation: a random rotation about the image centre and a
// random square crop zoomed back to the full size, applied as ONE affine warp
// (one resampling, not two), in-plane for volumes (about the slice axis, the
// usual choice for CT/MR where slices are thicker than pixels are wide).
//
// In normalized output coordinates u in [-1, 1] (torch affine_grid,
// align_corners=false), the warp reads the input at
//
//   input = crop * R(angle) * u + shift        R(a) = [[cos a, -sin a], [sin a, cos a]]
//
// so crop = 1, angle = 0, shift = 0 is the identity; crop < 1 shows the side
// fraction `crop` of the image, |shift| <= 1 - crop keeps that window inside
// it (before rotation). Images are resampled bilinearly with border padding
// (edges are air or table in CT: repeating them adds no new structure);
// masks nearest-neighbour with zero padding (background), so a mask warped
// with the same SpatialWarp stays aligned with its image and gains no class.
#include <torch/types.h>

#include <cstdint>
#include <random>

namespace medtrain::data {

struct SpatialWarp {
  double angle = 0;    // radians
  double crop = 1;     // side fraction kept, (0, 1]
  double shift_x = 0;  // normalized units, along W
  double shift_y = 0;  // along H
  bool identity() const { return angle == 0 && crop == 1 && shift_x == 0 && shift_y == 0; }
};

// Draws a warp: angle uniform in +-max_degrees, crop uniform in [min_crop, 1],
// shift uniform within the crop's slack. Draws nothing when both are off
// (max_degrees == 0 and min_crop == 1), so other draws from `rng` are unchanged.
SpatialWarp draw_spatial_warp(std::mt19937_64& rng, double max_degrees, double min_crop);

// image: float32 [N, C, H, W] or [N, C, D, H, W] -> same shape, bilinear.
torch::Tensor warp_image(const torch::Tensor& image, const SpatialWarp& warp);

// mask: int64 [H, W] or [D, H, W] class indices -> same shape, nearest.
torch::Tensor warp_mask(const torch::Tensor& mask, const SpatialWarp& warp);

}  // namespace medtrain::data
