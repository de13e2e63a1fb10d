// The rotation + crop warp against references that do not use affine_grid:
// a quarter turn is torch::rot90 (the direction pinned down), a centred-off
// crop is a bilinear upsampling of the cropped window (torch interpolate),
// a volume is warped slice by slice like 2D images, and a mask warped with
// the same draw stays on its image.
#include <gtest/gtest.h>
#include <torch/nn/functional/upsampling.h>

#include <cmath>
#include <random>

#include "data/spatial_augment.h"

namespace medtrain::data {
namespace {

constexpr double kQuarterTurn = 1.5707963267948966;

torch::Tensor ramp_image(int64_t s) {
  torch::manual_seed(3);
  return torch::rand({1, 1, s, s});
}

TEST(SpatialAugment, IdentityReturnsTheInputUntouched) {
  const auto x = ramp_image(8);
  EXPECT_TRUE(torch::equal(warp_image(x, SpatialWarp{}), x));
  const auto m = torch::randint(0, 3, {8, 8}, torch::kInt64);
  EXPECT_TRUE(torch::equal(warp_mask(m, SpatialWarp{}), m));
}

TEST(SpatialAugment, QuarterTurnIsRot90) {
  SpatialWarp w;
  w.angle = kQuarterTurn;
  const auto x = ramp_image(8);
  const auto expected = torch::rot90(x[0][0], 1, {0, 1});
  EXPECT_TRUE(torch::allclose(warp_image(x, w)[0][0], expected, 1e-5, 1e-5));
  const auto m = torch::randint(0, 4, {8, 8}, torch::kInt64);
  EXPECT_TRUE(torch::equal(warp_mask(m, w), torch::rot90(m, 1, {0, 1})));
}

TEST(SpatialAugment, CropIsTheWindowUpsampledBilinearly) {
  // crop 0.5 shifted by +0.5 in x and y: the bottom-right quadrant, zoomed 2x.
  SpatialWarp w;
  w.crop = 0.5, w.shift_x = 0.5, w.shift_y = 0.5;
  const auto x = ramp_image(8);
  namespace F = torch::nn::functional;
  const auto quadrant = x.narrow(2, 4, 4).narrow(3, 4, 4);
  const auto expected = F::interpolate(
      quadrant, F::InterpolateFuncOptions().size(std::vector<int64_t>{8, 8}).mode(torch::kBilinear).align_corners(false));
  // interpolate clamps at the window's edge where the warp reads the pixels
  // beyond it: compare the interior.
  const auto inner = [](const torch::Tensor& t) { return t[0][0].narrow(0, 1, 6).narrow(1, 1, 6); };
  EXPECT_TRUE(torch::allclose(inner(warp_image(x, w)), inner(expected), 1e-5, 1e-5));
}

TEST(SpatialAugment, VolumesWarpInPlaneSliceBySlice) {
  SpatialWarp w;
  w.angle = 0.3, w.crop = 0.8, w.shift_x = -0.1, w.shift_y = 0.15;
  torch::manual_seed(5);
  const auto v = torch::rand({1, 1, 4, 16, 16});
  const auto out = warp_image(v, w);
  ASSERT_EQ(out.sizes(), v.sizes());
  for (int64_t d = 0; d < 4; ++d) {
    const auto slice = v.select(2, d);  // [1, 1, 16, 16]
    EXPECT_TRUE(torch::allclose(out.select(2, d), warp_image(slice, w), 1e-5, 1e-5)) << "slice " << d;
  }
  const auto m = torch::randint(0, 3, {4, 16, 16}, torch::kInt64);
  const auto mw = warp_mask(m, w);
  for (int64_t d = 0; d < 4; ++d) EXPECT_TRUE(torch::equal(mw[d], warp_mask(m[d], w))) << "slice " << d;
}

TEST(SpatialAugment, MaskStaysOnItsImageAndGainsNoClass) {
  // A blocky label map as the image: away from block edges, the bilinear
  // image and the nearest mask must agree.
  const auto m = torch::zeros({32, 32}, torch::kInt64);
  m.narrow(0, 4, 12).narrow(1, 6, 10).fill_(1);
  m.narrow(0, 18, 10).narrow(1, 14, 14).fill_(2);
  std::mt19937_64 rng(11);
  for (int i = 0; i < 5; ++i) {
    const SpatialWarp w = draw_spatial_warp(rng, 30, 0.7);
    const auto mw = warp_mask(m, w);
    const auto iw = warp_image(m.to(torch::kFloat32).unsqueeze(0).unsqueeze(0), w)[0][0];
    const auto flat = iw.sub(iw.round()).abs().lt(1e-4);  // pixels inside one block
    EXPECT_TRUE(torch::equal(mw.masked_select(flat), iw.round().to(torch::kInt64).masked_select(flat)));
    EXPECT_GT(flat.sum().item<int64_t>(), 32 * 32 / 2);
    EXPECT_LE(mw.max().item<int64_t>(), 2);
    EXPECT_GE(mw.min().item<int64_t>(), 0);
    EXPECT_GT(mw.eq(2).sum().item<int64_t>(), 0);
  }
}

TEST(SpatialAugment, DrawsStayInRangeAndAreReproducible) {
  std::mt19937_64 a(7), b(7);
  for (int i = 0; i < 200; ++i) {
    const SpatialWarp w = draw_spatial_warp(a, 15, 0.8);
    const SpatialWarp v = draw_spatial_warp(b, 15, 0.8);
    EXPECT_EQ(w.angle, v.angle);
    EXPECT_LE(std::abs(w.angle), 15 * kQuarterTurn / 90 + 1e-12);
    EXPECT_GE(w.crop, 0.8);
    EXPECT_LE(w.crop, 1.0);
    EXPECT_LE(std::abs(w.shift_x), 1 - w.crop + 1e-12);
    EXPECT_LE(std::abs(w.shift_y), 1 - w.crop + 1e-12);
  }
  // Off: nothing is drawn, so the other draws of a sample stay as they were.
  std::mt19937_64 c(9), d(9);
  EXPECT_TRUE(draw_spatial_warp(c, 0, 1).identity());
  EXPECT_EQ(c(), d());
}

}  // namespace
}  // namespace medtrain::data
