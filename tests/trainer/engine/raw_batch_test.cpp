// The fused preprocessing path end to end on the CPU: the train split opened
// with raw stored values (open_data's raw_train_images), batched by the
// loader, then batch_images (kernels::preprocess_images, its CPU reference
// here; the same math as the CUDA kernel) gives the batches the loader's CPU
// chain gives, with and without augmentation, NCHW and channels_last.
//
// Tolerance: the two are the same formula in float32 with different
// rounding (the CPU chain multiplies by 1/width and folds jitter and
// normalisation into one scale and shift; the kernel divides, applies them in
// turn, with fma): a few ulps; at most 7.2e-7 seen here, under the 1e-6 asked.
#include "trainer/engine/batch_preprocess.h"

#include <gtest/gtest.h>

#include "data/dicom/raw_sample.h"
#include "data/dicom/synthetic_dicom.h"
#include "kernels/image_preprocess.h"
#include "tests/common/temp_dir.h"
#include "trainer/engine/training_data.h"

namespace medtrain::engine {
namespace {

constexpr double kTolerance = 1e-6;

class RawBatchTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = new testing::TempDir("medtrain_raw_batch");
    data::SyntheticOptions o;
    o.out_dir = dir_->str();
    o.count = 10;
    o.patients = 2;
    o.image_size = 40;
    o.val_fraction = 0;
    o.seed = 9;
    data::write_synthetic_dataset(o);
  }
  static void TearDownTestSuite() { delete dir_; }

  static config::Config config(bool augment) {
    config::Config cfg;
    cfg.model.num_classes = 2;
    cfg.data.manifest = dir_->str("manifest.csv");
    cfg.data.image_size = 40;
    cfg.data.window_center = -500;
    cfg.data.window_width = 1400;
    cfg.data.mean = 0.4;
    cfg.data.std = 0.2;
    cfg.data.augment = augment;
    return cfg;
  }

  static std::vector<data::Batch> batches(const config::Config& cfg, bool raw) {
    const DataSplits splits = open_data(cfg, /*records_only=*/false, raw);
    auto lo = loader_options(cfg, /*epoch=*/1, /*training=*/true);
    lo.batch_size = 4;
    std::vector<size_t> idx(splits.train->size());
    for (size_t i = 0; i < idx.size(); ++i) idx[i] = idx.size() - 1 - i;
    data::BatchLoader loader(splits.train, idx, lo);
    std::vector<data::Batch> out;
    while (auto b = loader.next()) out.push_back(std::move(*b));
    return out;
  }
  static testing::TempDir* dir_;
};
testing::TempDir* RawBatchTest::dir_ = nullptr;

TEST_F(RawBatchTest, DevicePathOnRawBatchesEqualsTheCpuChain) {
  for (bool augment : {false, true}) {
    const auto cfg = config(augment);
    const auto raw = batches(cfg, true), cpu = batches(cfg, false);
    ASSERT_EQ(raw.size(), 2u);  // 10 samples, batches of 4, training drops the last partial one
    ASSERT_EQ(cpu.size(), 2u);
    bool flipped = false;
    for (size_t k = 0; k < raw.size(); ++k) {
      ASSERT_TRUE(raw[k].preprocess.defined()) << "batch " << k;
      ASSERT_FALSE(cpu[k].preprocess.defined());
      flipped |= raw[k].preprocess.select(1, data::kRawFlip).ne(0).any().item<bool>();
      EXPECT_TRUE(torch::equal(raw[k].targets, cpu[k].targets));
      EXPECT_TRUE(batch_images(cpu[k], false).is_same(cpu[k].images));  // float batches pass through
      for (bool channels_last : {false, true}) {
        const at::Tensor x = batch_images(raw[k], channels_last);
        EXPECT_EQ(x.scalar_type(), at::kFloat);
        EXPECT_EQ(x.sizes(), cpu[k].images.sizes());
        EXPECT_TRUE(x.is_contiguous(channels_last ? at::MemoryFormat::ChannelsLast : at::MemoryFormat::Contiguous));
        const double diff = (x - cpu[k].images).abs().max().item<double>();
        EXPECT_LE(diff, kTolerance) << "batch " << k << " augment " << augment << " channels_last " << channels_last;
      }
    }
    EXPECT_EQ(flipped, augment) << "augmentation must exercise the flip";
  }
}

// Without the raw path's parameters the loop would train on stored values:
// the check must be able to fail, so a wrong window must show.
TEST_F(RawBatchTest, AWrongParameterShows) {
  const auto cfg = config(true);
  auto raw = batches(cfg, true);
  const auto cpu = batches(cfg, false);
  raw[0].preprocess.select(1, data::kRawCenter).add_(10.0);
  EXPECT_GT((batch_images(raw[0], false) - cpu[0].images).abs().max().item<double>(), 1e-3);
}

TEST_F(RawBatchTest, SamplesDisagreeingOnNormalisationAreRefused) {
  auto raw = batches(config(false), true);
  raw[0].preprocess[1][data::kRawStd] = 0.5;
  EXPECT_THROW(batch_images(raw[0], false), c10::Error);
}

}  // namespace
}  // namespace medtrain::engine
