// fit_volume / fit_mask (data.slice_spacing, data.pixel_spacing): at the
// volume's own spacing the fit is the centre crop/pad, checked voxel by voxel
// with the offsets written out by hand; across spacings a sphere keeps its
// size in millimetres (volume and extent), for the image and for its mask;
// and unknown spacing or a mask off its volume's grid are DataErrors.
#include <gtest/gtest.h>

#include <cmath>

#include "data/data_error.h"
#include "data/volume_fit.h"

namespace medtrain::data {
namespace {

VolumeFit fit_to(std::array<double, 3> spacing, std::array<int64_t, 3> shape) {
  VolumeFit f;
  f.spacing = spacing;
  f.shape = shape;
  return f;
}

TEST(VolumeFit, AtItsOwnSpacingAVolumeIsCentreCroppedOrPadded) {
  // 6 x 10 x 7 ramp -> 4 x 12 x 5: z cropped by 1 at the front (and 1 behind),
  // y padded by 1 on each side, x cropped by 1 at the front.
  const auto v = torch::arange(6 * 10 * 7, torch::kFloat32).reshape({6, 10, 7}) + 5;
  const auto out = fit_volume(v, {2, 1, 1}, fit_to({2, 1, 1}, {4, 12, 5}), "v");
  ASSERT_EQ(out.sizes().vec(), (std::vector<int64_t>{4, 12, 5}));
  for (int64_t z = 0; z < 4; ++z) {
    for (int64_t y = 0; y < 12; ++y) {
      for (int64_t x = 0; x < 5; ++x) {
        const bool padded = y == 0 || y == 11;
        const float want = padded ? 5.0f : v[z + 1][y - 1][x + 1].item<float>();  // the minimum pads
        ASSERT_EQ(out[z][y][x].item<float>(), want) << z << " " << y << " " << x;
      }
    }
  }
  EXPECT_TRUE(torch::equal(fit_volume(v, {2, 1, 1}, VolumeFit{}, "v"), v));  // off: untouched
}

// A ball of radius 6 mm on an anisotropic grid (3 mm slices, 0.75 mm pixels).
torch::Tensor ball(std::array<int64_t, 3> shape, std::array<double, 3> spacing) {
  auto v = torch::zeros({shape[0], shape[1], shape[2]});
  auto a = v.accessor<float, 3>();
  for (int64_t z = 0; z < shape[0]; ++z) {
    for (int64_t y = 0; y < shape[1]; ++y) {
      for (int64_t x = 0; x < shape[2]; ++x) {
        const double dz = (z + 0.5) * spacing[0] - shape[0] * spacing[0] / 2;
        const double dy = (y + 0.5) * spacing[1] - shape[1] * spacing[1] / 2;
        const double dx = (x + 0.5) * spacing[2] - shape[2] * spacing[2] / 2;
        a[z][y][x] = dz * dz + dy * dy + dx * dx <= 36.0 ? 1.0f : 0.0f;
      }
    }
  }
  return v;
}

TEST(VolumeFit, ABallKeepsItsSizeInMillimetres) {
  const std::array<int64_t, 3> shape{8, 32, 32};  // 24 mm on each side
  const std::array<double, 3> spacing{3, 0.75, 0.75};
  const auto v = ball(shape, spacing);
  const auto fit = fit_to({1, 1, 1}, {30, 30, 30});  // 24 mm resampled to 24 voxels, padded to 30
  const double mm3 = 4.0 / 3.0 * M_PI * 216;         // 905 mm^3 = voxels at 1 mm
  const auto image = fit_volume(v, spacing, fit, "ball");
  ASSERT_EQ(image.sizes().vec(), (std::vector<int64_t>{30, 30, 30}));
  EXPECT_NEAR((image > 0.5).sum().item<double>(), mm3, 0.12 * mm3);
  const auto mask = fit_mask(v.to(torch::kInt64), shape, spacing, fit, "ball.npy");
  EXPECT_NEAR(mask.sum().item<double>(), mm3, 0.12 * mm3);
  // 12 mm across along every axis, centred in the 30-voxel cube.
  const auto centre = mask[15];
  EXPECT_NEAR(centre[15].sum().item<double>(), 12, 2);
  EXPECT_NEAR(mask.select(2, 15).select(1, 15).sum().item<double>(), 12, 2);  // along z
  EXPECT_EQ(mask[0].sum().item<int64_t>(), 0);  // padding is background
}

TEST(VolumeFit, UnknownSpacingAndMasksOffTheGridAreNamed) {
  const auto v = torch::zeros({4, 8, 8});
  const auto fit = fit_to({1, 1, 1}, {4, 8, 8});
  try {
    fit_volume(v, {0, 1, 1}, fit, "series/P1");
    FAIL();
  } catch (const DataError& e) {
    EXPECT_NE(std::string(e.what()).find("series/P1: voxel spacing unknown"), std::string::npos) << e.what();
  }
  try {
    fit_mask(torch::zeros({4, 8, 7}, torch::kInt64), {4, 8, 8}, {1, 1, 1}, fit, "m.npy");
    FAIL();
  } catch (const DataError& e) {
    EXPECT_NE(std::string(e.what()).find("m.npy: mask is 4x8x7, its volume 4x8x8"), std::string::npos) << e.what();
  }
}

}  // namespace
}  // namespace medtrain::data
