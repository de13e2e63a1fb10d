// display_image / middle_slices / mask_labels against values worked out by
// hand: the de-normalisation v = x * std + mean must put the window's edges at
// 0 and 255 for any data.mean/std, RGB must stay R, G, B in row-major order,
// and a volume's three middle slices must be the planes they are named after.
#include <gtest/gtest.h>
#include <torch/torch.h>

#include <cmath>
#include <cstdint>
#include <limits>
#include <stdexcept>
#include <vector>

#include "trainer/metrics/display_image.h"

namespace medtrain::metrics {
namespace {

std::vector<uint8_t> bytes(std::initializer_list<int> v) { return std::vector<uint8_t>(v.begin(), v.end()); }

TEST(DisplayImage, UndoesTheDefaultNormalisation) {
  // data.mean 0.5, data.std 0.25: x = (v - 0.5) / 0.25. By hand:
  //   x -2 -> v 0 -> 0;  x -1 -> v 0.25 -> 63.75 -> 64;  x 0 -> v 0.5 -> 127.5 -> 128 (half up)
  //   x 2 -> v 1 -> 255;  x 3 -> v 1.25, clamped -> 255;  x -3 -> v -0.25, clamped -> 0
  const auto x = torch::tensor({-2.0f, -1.0f, 0.0f, 2.0f, 3.0f, -3.0f}).reshape({1, 2, 3});
  const RasterImage img = display_image(x, {0.5, 0.25});
  EXPECT_EQ(img.width, 3);
  EXPECT_EQ(img.height, 2);
  EXPECT_EQ(img.channels, 1);
  EXPECT_EQ(img.pixels, bytes({0, 64, 128, 255, 255, 0}));
}

TEST(DisplayImage, UndoesAnyMeanAndStd) {
  // data.mean -0.25, data.std 2: v = 2 x - 0.25 (x exact in float32, so v is). By hand:
  //   x 0.125 -> v 0 -> 0;  x 0.375 -> v 0.5 -> 127.5 -> 128;  x 0.625 -> v 1 -> 255;
  //   x 0.5 -> v 0.75 -> 191.25 -> 191
  const auto x = torch::tensor({0.125f, 0.375f, 0.625f, 0.5f}).reshape({1, 1, 4});
  EXPECT_EQ(display_image(x, {-0.25, 2.0}).pixels, bytes({0, 128, 255, 191}));
  // Without normalisation (mean 0, std 1) the values are the window position itself.
  EXPECT_EQ(display_image(torch::tensor({0.0, 0.2, 1.0}).reshape({1, 1, 3}), {}).pixels, bytes({0, 51, 255}));
}

TEST(DisplayImage, ThreeChannelsAreRgbInRowMajorOrder) {
  // [3, H 2, W 2], range mean 0 std 1: R, G, B planes.
  const auto r = torch::tensor({1.0f, 0.0f, 0.0f, 0.0f}).reshape({2, 2});
  const auto g = torch::tensor({0.0f, 0.5f, 0.0f, 0.0f}).reshape({2, 2});
  const auto b = torch::tensor({0.0f, 0.0f, 1.0f, 0.2f}).reshape({2, 2});
  const RasterImage img = display_image(torch::stack({r, g, b}), {});
  ASSERT_EQ(img.channels, 3);
  ASSERT_EQ(img.width, 2);
  ASSERT_EQ(img.height, 2);
  EXPECT_EQ(img.pixels, bytes({255, 0, 0, /**/ 0, 128, 0, /**/ 0, 0, 255, /**/ 0, 0, 51}));
  // (x 1, y 0) is the green one; (x 0, y 1) the blue one.
  EXPECT_EQ(img.at(1, 0)[1], 128);
  EXPECT_EQ(img.at(0, 1)[2], 255);
}

TEST(DisplayImage, ChannelsLastAndNonContiguousInputsGiveTheSamePicture) {
  const auto x = torch::rand({3, 5, 7});
  const auto expected = display_image(x, {0.5, 0.25}).pixels;
  const auto cl = x.unsqueeze(0).contiguous(at::MemoryFormat::ChannelsLast).squeeze(0);
  EXPECT_EQ(display_image(cl, {0.5, 0.25}).pixels, expected);
  const auto transposed = x.transpose(1, 2).contiguous().transpose(1, 2);  // same values, other strides
  EXPECT_EQ(display_image(transposed, {0.5, 0.25}).pixels, expected);
}

TEST(DisplayImage, OtherChannelCountsShowTheFirstInGray) {
  const auto x = torch::stack({torch::full({2, 2}, 1.0f), torch::zeros({2, 2})});  // [2, 2, 2]
  const RasterImage img = display_image(x, {});
  EXPECT_EQ(img.channels, 1);
  EXPECT_EQ(img.pixels, bytes({255, 255, 255, 255}));
}

TEST(DisplayImage, SixteenBitStoredValuesAreStretchedFromMinToMax) {
  // 12-bit CT stored values in int16: min -1024 -> 0, max 3071 -> 255,
  // 1023.5 would be half way; 0 -> 1024/4095*255 = 63.77 -> 64.
  const auto hu = torch::tensor({-1024, 0, 3071, 1024}, torch::kInt16).reshape({1, 2, 2});
  EXPECT_EQ(display_image(hu, {0.5, 0.25}).pixels, bytes({0, 64, 255, 128}));
  // Unsigned 16-bit with the full range: 65535 -> 255, 0 -> 0, 32768 -> 127.5019 -> 128.
  const auto u16 = torch::tensor({0, 65535, 32768}, torch::kInt32).to(torch::kUInt16).reshape({1, 1, 3});
  EXPECT_EQ(display_image(u16, {}).pixels, bytes({0, 255, 128}));
  // A constant picture has no range: black, not a division by zero.
  EXPECT_EQ(display_image(torch::full({1, 1, 2}, 7, torch::kInt16), {}).pixels, bytes({0, 0}));
}

TEST(DisplayImage, NanAndInfinityDoNotBreakThePicture) {
  const float inf = std::numeric_limits<float>::infinity();
  const auto x = torch::tensor({std::nanf(""), inf, -inf}).reshape({1, 1, 3});
  EXPECT_EQ(display_image(x, {0.5, 0.25}).pixels, bytes({0, 255, 0}));  // NaN black, +inf white, -inf black
}

TEST(DisplayImage, RefusesWhatIsNotOnePicture) {
  EXPECT_THROW(display_image(torch::zeros({4, 4}), {}), std::invalid_argument);
  EXPECT_THROW(display_image(torch::zeros({1, 1, 4, 4}), {}), std::invalid_argument);
  EXPECT_THROW(display_image(torch::zeros({1, 0, 4}), {}), std::invalid_argument);
}

TEST(MiddleSlices, AreTheAxialCoronalAndSagittalPlanesThroughTheCentre) {
  // value = 100 d + 10 h + w on a [1, D 5, H 6, W 7] volume: centre (2, 3, 3).
  const auto d = torch::arange(5).view({5, 1, 1}), h = torch::arange(6).view({1, 6, 1});
  const auto w = torch::arange(7).view({1, 1, 7});
  const auto vol = (100 * d + 10 * h + w).unsqueeze(0).to(torch::kFloat);
  const auto s = middle_slices(vol);
  EXPECT_EQ(s[0].sizes().vec(), (std::vector<int64_t>{1, 6, 7}));  // axial: H x W at d = 2
  EXPECT_EQ(s[1].sizes().vec(), (std::vector<int64_t>{1, 5, 7}));  // coronal: D x W at h = 3
  EXPECT_EQ(s[2].sizes().vec(), (std::vector<int64_t>{1, 5, 6}));  // sagittal: D x H at w = 3
  EXPECT_TRUE(torch::equal(s[0][0], (200 + 10 * h + w).squeeze(0).to(torch::kFloat)));
  EXPECT_TRUE(torch::equal(s[1][0], (100 * d + 30 + w).squeeze(1).to(torch::kFloat)));
  EXPECT_TRUE(torch::equal(s[2][0], (100 * d + 10 * h + 3).squeeze(2).to(torch::kFloat)));
  EXPECT_EQ(s[2][0][4][5].item<float>(), 453.0f);  // slice 4, row 5, column 3
}

TEST(MiddleSlices, OfAMaskWithoutChannels) {
  auto mask = torch::zeros({4, 8, 8}, torch::kLong);
  mask[2][5][1] = 1;  // on the axial plane (d 2) only: h 5 != 4, w 1 != 4
  mask[2][4][4] = 2;  // the centre: on all three
  const auto s = middle_slices(mask);
  EXPECT_EQ(s[0].sizes().vec(), (std::vector<int64_t>{8, 8}));
  EXPECT_EQ(s[0].sum().item<int64_t>(), 3);
  EXPECT_EQ(s[1].sum().item<int64_t>(), 2);
  EXPECT_EQ(s[2].sum().item<int64_t>(), 2);
  EXPECT_EQ(s[1][2][4].item<int64_t>(), 2);  // coronal: row = slice, column = w
}

TEST(MiddleSlices, RefusesAPlane) { EXPECT_THROW(middle_slices(torch::zeros({4, 4})), std::invalid_argument); }

TEST(MaskLabels, AreRowMajorClassIndices) {
  const auto mask = torch::tensor({0, 1, 2, 0, 0, 1}, torch::kLong).reshape({2, 3});
  EXPECT_EQ(mask_labels(mask), (std::vector<int64_t>{0, 1, 2, 0, 0, 1}));
  EXPECT_EQ(mask_labels(mask.t()), (std::vector<int64_t>{0, 0, 1, 0, 2, 1}));  // a view, read as it looks
  EXPECT_EQ(mask_labels(mask.to(torch::kFloat)), (std::vector<int64_t>{0, 1, 2, 0, 0, 1}));
  EXPECT_THROW(mask_labels(torch::zeros({1, 2, 3})), std::invalid_argument);
}

}  // namespace
}  // namespace medtrain::metrics
