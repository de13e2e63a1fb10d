// The memory estimate behind --max-volume-gb and the model grid: a
// 512 x 512 x 600 CT with a 96^3 ROI fits in a few GB (issue 16), the grid
// follows the training spacing, and fractional SEG probabilities are counted.
#include <gtest/gtest.h>

#include "trainer/export/volume_segmentation.h"

namespace medtrain::exporter {
namespace {

ModelCard ct_card(double spacing) {
  ModelCard c;
  c.architecture = "unet3d";
  c.task = "segmentation";
  c.num_classes = 2;
  c.preprocessing.depth = 96;
  c.preprocessing.image_size = 96;
  c.preprocessing.slice_spacing = c.preprocessing.pixel_spacing = spacing;
  c.preprocessing.roi = {96, 96, 96};
  return c;
}

TEST(VolumeSegmentation, ModelGridFollowsTheTrainingSpacing) {
  EXPECT_EQ(model_grid({600, 512, 512}, {1.0, 0.75, 0.75}, ct_card(1.5)), (std::array<int64_t, 3>{400, 256, 256}));
  ModelCard resized = ct_card(0);
  EXPECT_EQ(model_grid({600, 512, 512}, {1.0, 0.75, 0.75}, resized), (std::array<int64_t, 3>{600, 512, 512}));
}

TEST(VolumeSegmentation, A512x512x600CtFitsInAFewGigabytes) {
  const SlidingWindowOptions w;
  const std::array<int64_t, 3> ct{600, 512, 512};
  const int64_t same = volume_segmentation_bytes(ct, {1.0, 1.0, 1.0}, ct_card(1.0), w, false);
  EXPECT_GT(same, int64_t{2} << 30);  // the windowed copy, 96 slices of accumulation, the activations
  EXPECT_LT(same, int64_t{3} << 30);
  const int64_t resampled = volume_segmentation_bytes(ct, {1.0, 0.75, 0.75}, ct_card(1.5), w, false);
  EXPECT_LT(resampled, int64_t{4} << 30);
  // Fractional SEG keeps a uint8 probability per class and voxel.
  EXPECT_EQ(volume_segmentation_bytes(ct, {1.0, 1.0, 1.0}, ct_card(1.0), w, true) - same, 2 * 600 * 512 * 512);
  SlidingWindowOptions batched;
  batched.sw_batch = 4;
  EXPECT_GT(volume_segmentation_bytes(ct, {1.0, 1.0, 1.0}, ct_card(1.0), batched, false), same);
}

}  // namespace
}  // namespace medtrain::exporter
