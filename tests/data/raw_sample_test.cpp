// Raw image samples (data/dicom/raw_sample.h) and the loader's handling of
// them: a raw sample turned back into floats (finish_raw) is bit for bit the
// CPU chain's image; samples that need a resize or a warp, or whose values no
// 16-bit integer holds, stay float; batches mixing raw and float samples come
// out as the float batch the CPU chain makes. (That the device kernel on raw
// batches equals the CPU chain: tests/trainer/engine/raw_batch_test.cpp.)
#include "data/dicom/raw_sample.h"

#include <gtest/gtest.h>

#include "data/batch_loader.h"
#include "data/dicom/dicom_dataset.h"
#include "data/dicom/synthetic_dicom.h"
#include "tests/data/test_files.h"

namespace medtrain::data {
namespace {

using testing::TempDir;

class RawSampleTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = new TempDir();
    SyntheticOptions o;
    o.out_dir = dir_->str();
    o.count = 8;
    o.patients = 2;
    o.image_size = 32;
    o.val_fraction = 0;
    o.seed = 3;
    write_synthetic_dataset(o);
  }
  static void TearDownTestSuite() { delete dir_; }
  static DicomDatasetOptions options(bool raw, bool augment, int64_t size = 32) {
    DicomDatasetOptions o;
    o.manifest = dir_->str("manifest.csv");
    o.image_size = size;
    o.window_center = -600;
    o.window_width = 1500;
    o.mean = 0.3;
    o.std = 0.25;
    o.augment = augment;
    o.flip_probability = 0.5;
    o.intensity_jitter = 0.1;
    o.raw_stored_values = raw;
    return o;
  }
  static std::vector<Batch> batches(std::shared_ptr<const Dataset> ds, size_t workers = 2) {
    LoaderOptions lo;
    lo.batch_size = 3;
    lo.workers = workers;
    lo.seed = 11;
    BatchLoader loader(std::move(ds), {0, 1, 2, 3, 4, 5, 6, 7}, lo);
    std::vector<Batch> out;
    while (auto b = loader.next()) out.push_back(std::move(*b));
    return out;
  }
  static TempDir* dir_;
};
TempDir* RawSampleTest::dir_ = nullptr;

TEST_F(RawSampleTest, RawSampleHoldsStoredValuesAndFinishesToTheCpuChainBitForBit) {
  for (bool augment : {false, true}) {
    const auto raw = open_dicom_dataset(options(true, augment));
    const auto cpu = open_dicom_dataset(options(false, augment));
    for (size_t i = 0; i < raw->size(); ++i) {
      const Sample r = raw->get(i, 100 + i), c = cpu->get(i, 100 + i);
      ASSERT_TRUE(r.preprocess.defined()) << i;
      EXPECT_FALSE(c.preprocess.defined());
      // Synthetic CT: 12 stored bits, intercept -1024: stored values fit int16 with slope 1.
      EXPECT_EQ(r.image.scalar_type(), torch::kInt16);
      EXPECT_EQ(r.image.sizes(), (std::vector<int64_t>{1, 32, 32}));
      EXPECT_EQ(r.preprocess[kRawSlope].item<double>(), 1.0);
      EXPECT_EQ(r.preprocess[kRawIntercept].item<double>(), -1024.0);
      EXPECT_TRUE(torch::equal(r.target, c.target));
      EXPECT_TRUE(torch::equal(finish_raw(r.image, r.preprocess), c.image)) << "sample " << i;
      const Augmentation a = draw_augmentation(100 + i, options(true, augment));
      EXPECT_EQ(r.preprocess[kRawFlip].item<double>(), a.flip ? 1.0 : 0.0);
      EXPECT_EQ(r.preprocess[kRawGain].item<double>(), a.scale);
      EXPECT_EQ(r.preprocess[kRawBias].item<double>(), a.offset);
    }
  }
}

TEST_F(RawSampleTest, SamplesNeedingAResizeOrAWarpStayFloat) {
  const auto resized = open_dicom_dataset(options(true, false, /*size=*/24));
  EXPECT_FALSE(resized->get(0, 1).preprocess.defined());
  DicomDatasetOptions o = options(true, true);
  o.rotate_degrees = 10;
  const auto rotated = open_dicom_dataset(o);
  EXPECT_FALSE(rotated->get(0, 1).preprocess.defined());
  EXPECT_TRUE(torch::equal(rotated->get(0, 1).image, [&] {
    o.raw_stored_values = false;
    return open_dicom_dataset(o)->get(0, 1).image;
  }()));
}

TEST_F(RawSampleTest, ValuesNoSixteenBitIntegerHoldsStayFloat) {
  const DicomDatasetOptions o = options(true, false, 4);
  torch::Tensor hu = torch::arange(16, torch::kFloat32).reshape({4, 4}) * 0.3f;  // not q * 1 + 0
  EXPECT_FALSE(raw_sample(hu, 1.0, 0.0, o, {}).has_value());
  EXPECT_FALSE(raw_sample(torch::full({4, 4}, 70000.f), 1.0, 0.0, o, {}).has_value());  // past uint16
  // Slope 0.5: q = 2 * value is exact, and uint16 when every q >= 0 and one passes int16.
  const auto half = raw_sample(torch::full({4, 4}, 20000.f), 0.5, 0.0, o, {});
  ASSERT_TRUE(half.has_value());
  EXPECT_EQ(half->image.scalar_type(), torch::kUInt16);
  EXPECT_TRUE(torch::equal(finish_raw(half->image, half->preprocess), preprocess_hu(torch::full({4, 4}, 20000.f), o)));
}

TEST_F(RawSampleTest, RawBatchesCarryStoredValuesAndParameters) {
  const auto raw = batches(open_dicom_dataset(options(true, true)));
  const auto cpu = batches(open_dicom_dataset(options(false, true)));
  ASSERT_EQ(raw.size(), 3u);
  for (size_t k = 0; k < raw.size(); ++k) {
    ASSERT_TRUE(raw[k].preprocess.defined());
    EXPECT_FALSE(cpu[k].preprocess.defined());
    EXPECT_EQ(raw[k].images.scalar_type(), torch::kInt16);
    EXPECT_EQ(raw[k].preprocess.sizes(), (std::vector<int64_t>{raw[k].images.size(0), kRawParams}));
    EXPECT_TRUE(torch::equal(raw[k].targets, cpu[k].targets));
    for (int64_t j = 0; j < raw[k].images.size(0); ++j) {
      EXPECT_TRUE(torch::equal(finish_raw(raw[k].images[j], raw[k].preprocess[j]), cpu[k].images[j]));
    }
  }
}

// Odd samples float (as a file of another size would be) when asked, sample 2
// stored as uint16 (another type than the int16 of its batch's first raw row).
class MixedRaw : public Dataset {
 public:
  MixedRaw(std::shared_ptr<const Dataset> raw, bool odd_float) : raw_(std::move(raw)), odd_float_(odd_float) {}
  size_t size() const override { return raw_->size(); }
  Sample get(size_t i, uint64_t seed) const override {
    Sample s = raw_->get(i, seed);
    if (odd_float_ && i % 2 == 1) {
      s.image = finish_raw(s.image, s.preprocess);
      s.preprocess = torch::Tensor();
    } else if (i == 2) {
      s.image = s.image.to(torch::kInt32).add(1024).to(torch::kUInt16);
      s.preprocess = s.preprocess.clone();
      s.preprocess[kRawIntercept] = -2048.0;
    }
    return s;
  }
  std::string describe(size_t i) const override { return raw_->describe(i); }
  int64_t label(size_t i) const override { return raw_->label(i); }

 private:
  std::shared_ptr<const Dataset> raw_;
  bool odd_float_;
};

TEST_F(RawSampleTest, MixedBatchesAreTheCpuChainsFloatBatches) {
  for (size_t workers : {size_t{0}, size_t{3}}) {
    for (bool odd_float : {true, false}) {
    const auto mixed = batches(std::make_shared<MixedRaw>(open_dicom_dataset(options(true, true)), odd_float), workers);
    const auto cpu = batches(open_dicom_dataset(options(false, true)), workers);
    ASSERT_EQ(mixed.size(), cpu.size());
    for (size_t k = 0; k < mixed.size(); ++k) {
      // Without float samples only batch 0 (int16 and uint16 rows) mixes.
      EXPECT_EQ(mixed[k].preprocess.defined(), !odd_float && k > 0) << "batch " << k;
      if (mixed[k].preprocess.defined()) continue;
      EXPECT_EQ(mixed[k].images.scalar_type(), torch::kFloat32);
      EXPECT_TRUE(torch::equal(mixed[k].images, cpu[k].images)) << "batch " << k << ", " << workers << " workers";
      EXPECT_TRUE(torch::equal(mixed[k].targets, cpu[k].targets));
    }
    }
  }
}

}  // namespace
}  // namespace medtrain::data
