// batch_picture's layout (one strip per sample: image, target, prediction;
// volumes as three middle slices), the overlays landing on the pixels of the
// mask, the panel size cap, and the captions of the tags.
#include <gtest/gtest.h>
#include <torch/torch.h>

#include <stdexcept>
#include <string>
#include <vector>

#include "trainer/engine/summary_pictures.h"
#include "trainer/metrics/overlay.h"

namespace medtrain::engine {
namespace {

const metrics::DisplayRange kRange{0.5, 0.25};

TEST(BatchPicture, TwoDimensionalSamplesSitSideBySideInGrey) {
  const auto x = torch::randn({3, 1, 32, 32});
  const auto img = batch_picture({x, {}, {}}, kRange);
  EXPECT_EQ(img.channels, 1);
  EXPECT_EQ(img.width, 3 * 32 + 2 * 8);  // three columns (at most four), 8 px apart
  EXPECT_EQ(img.height, 32);
  const auto second = metrics::display_image(x[1], kRange);
  for (int64_t y = 0; y < 32; y += 7) {
    for (int64_t c = 0; c < 32; c += 5) EXPECT_EQ(*img.at(40 + c, y), *second.at(c, y)) << c << "," << y;
  }
  const auto five = batch_picture({torch::randn({5, 1, 8, 8}), {}, {}}, kRange);  // rows of four
  EXPECT_EQ(five.width, 4 * 8 + 3 * 8);
  EXPECT_EQ(five.height, 2 * 8 + 8);
}

TEST(BatchPicture, SegmentationShowsTheMasksAsOverlaysBesideTheImage) {
  const auto x = torch::randn({2, 1, 8, 8});
  auto target = torch::zeros({2, 8, 8}, torch::kLong);
  target[1][2][3] = 1;  // sample 1, row 2, column 3
  auto predicted = torch::zeros({2, 8, 8}, torch::kLong);
  predicted[1][5][6] = 2;
  const auto train = batch_picture({x, target, {}}, kRange);
  EXPECT_EQ(train.channels, 3);
  EXPECT_EQ(train.width, 2 * (8 + 2 + 8) + 8);  // two samples of image | target
  EXPECT_EQ(train.height, 8);
  const auto val = batch_picture({x, target, predicted}, kRange);
  EXPECT_EQ(val.width, 3 * 8 + 2 * 2);  // one sample per row: image | target | prediction
  EXPECT_EQ(val.height, 2 * 8 + 8);
  // Sample 1 (second row): the overlays are mask_overlay of its display image.
  const auto base = metrics::display_image(x[1], kRange);
  std::vector<int64_t> t(64, 0), p(64, 0);
  t[2 * 8 + 3] = 1;
  p[5 * 8 + 6] = 2;
  const auto want_t = metrics::mask_overlay(base, t), want_p = metrics::mask_overlay(base, p);
  const int64_t top = 8 + 8;
  for (int64_t y = 0; y < 8; ++y) {
    for (int64_t c = 0; c < 8; ++c) {
      for (int ch = 0; ch < 3; ++ch) {
        EXPECT_EQ(val.at(c, top + y)[ch], *base.at(c, y));  // the image: grey
        EXPECT_EQ(val.at(10 + c, top + y)[ch], want_t.at(c, y)[ch]);
        EXPECT_EQ(val.at(20 + c, top + y)[ch], want_p.at(c, y)[ch]);
      }
    }
  }
  EXPECT_NE(val.at(10 + 3, top + 2)[0], val.at(10 + 3, top + 2)[1]);  // coloured where the mask is
}

TEST(BatchPicture, VolumesShowTheirThreeMiddleSlices) {
  const auto x = torch::randn({1, 1, 4, 6, 8});  // D 4, H 6, W 8
  const auto img = batch_picture({x, {}, {}}, kRange);
  // Axial 6 x 8, coronal 4 x 8, sagittal 4 x 6, each in a cell of 6 x 8.
  EXPECT_EQ(img.width, 3 * 8 + 2 * 2);
  EXPECT_EQ(img.height, 6);
  const auto coronal = metrics::display_image(x[0].select(2, 3), kRange);
  EXPECT_EQ(*img.at(10 + 5, 3), *coronal.at(5, 3));
  const auto mask = torch::zeros({1, 4, 6, 8}, torch::kLong);
  const auto seg = batch_picture({x, mask, mask}, kRange);
  EXPECT_EQ(seg.width, 9 * 8 + 8 * 2);  // image, target, prediction: three slices each
}

TEST(BatchPicture, LargePanelsAreShrunkTo256) {
  const auto img = batch_picture({torch::zeros({1, 1, 512, 300}), {}, {}}, kRange);
  EXPECT_EQ(img.height, 256);
  EXPECT_EQ(img.width, 150);
  const auto seg = batch_picture({torch::zeros({1, 1, 512, 512}), torch::ones({1, 512, 512}, torch::kLong), {}},
                                 kRange);
  EXPECT_EQ(seg.width, 256 + 2 + 256);
}

TEST(BatchPicture, RefusesMasksThatDoNotMatchTheImages) {
  EXPECT_THROW(batch_picture({torch::zeros({2, 1, 8, 8}), torch::zeros({2, 8, 7}, torch::kLong), {}}, kRange),
               std::invalid_argument);
  EXPECT_THROW(batch_picture({torch::zeros({2, 8, 8}), {}, {}}, kRange), std::invalid_argument);
  EXPECT_THROW(batch_picture({torch::zeros({0, 1, 8, 8}), {}, {}}, kRange), std::invalid_argument);
}

TEST(ClassCaptions, NameClassesAndFindings) {
  const std::vector<std::string> names{"no_lesion", "lesion"};
  EXPECT_EQ(class_captions(Task::kMulticlass, torch::tensor({1, 0, 2}, torch::kLong), names),
            (std::vector<std::string>{"lesion", "no_lesion", "2"}));
  const auto multi = torch::tensor({1.0f, 0.0f, 1.0f, 0.0f, 0.0f, 0.0f}).reshape({2, 3});
  EXPECT_EQ(class_captions(Task::kMultilabel, multi, {"a", "b", "c"}), (std::vector<std::string>{"a+c", "none"}));
  EXPECT_EQ(class_name({}, 3), "3");
}

TEST(PredictedClasses, AreArgmaxOrPositiveLogits) {
  const auto logits = torch::tensor({0.1f, 2.0f, -1.0f, 3.0f, -0.5f, 0.2f}).reshape({2, 3});
  EXPECT_TRUE(torch::equal(predicted_classes(Task::kMulticlass, logits), torch::tensor({1, 0}, torch::kLong)));
  EXPECT_TRUE(torch::equal(predicted_classes(Task::kMultilabel, logits),
                           torch::tensor({1.0f, 1.0f, 0.0f, 1.0f, 0.0f, 1.0f}).reshape({2, 3})));
}

}  // namespace
}  // namespace medtrain::engine
