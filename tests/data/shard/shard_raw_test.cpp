// Shards in raw mode (DicomDatasetOptions::raw_stored_values): records stored
// at the training size leave as their stored values + parameters, and
// finish_raw of them is the float sample the shard dataset makes otherwise,
// bit for bit; records needing a resize stay float.
#include <gtest/gtest.h>

#include "data/dicom/raw_sample.h"
#include "data/shard/shard_dataset.h"
#include "tests/data/shard/shard_test_util.h"

namespace medtrain::data::shard {
namespace {

using medtrain::testing::TempDir;
using namespace medtrain::data::shard::testing;

std::shared_ptr<ShardDataset> open(const std::string& out, const std::string& manifest, int64_t size, bool raw) {
  ShardDatasetOptions o;
  o.dir = out;
  o.split = "train";
  o.preprocess.manifest = manifest;
  o.preprocess.split = "train";
  o.preprocess.image_size = size;
  o.preprocess.window_center = -600;
  o.preprocess.window_width = 1500;
  o.preprocess.mean = 0.5;
  o.preprocess.std = 0.25;
  o.preprocess.augment = true;
  o.preprocess.raw_stored_values = raw;
  return open_shard_dataset(o);
}

TEST(ShardRaw, RecordsAtTheTrainingSizeTravelRawAndFinishToTheFloatSample) {
  TempDir dir("medtrain_shard_raw");
  const std::string manifest = make_dicom_set(dir, 12);
  const auto o = pack_options(manifest, dir.str("shards"));
  pack_dataset(o);
  const auto raw = open(o.out, manifest, 32, true), cpu = open(o.out, manifest, 32, false);
  ASSERT_GT(raw->size(), 0u);
  for (size_t i = 0; i < raw->size(); ++i) {
    const Sample r = raw->get(i, 7 + i), c = cpu->get(i, 7 + i);
    ASSERT_TRUE(r.preprocess.defined()) << i;
    EXPECT_EQ(r.image.scalar_type(), torch::kInt16);
    EXPECT_TRUE(torch::equal(finish_raw(r.image, r.preprocess), c.image)) << i;
    EXPECT_TRUE(torch::equal(r.target, c.target));
  }
  const auto resized = open(o.out, manifest, 24, true);
  EXPECT_FALSE(resized->get(0, 1).preprocess.defined());
  EXPECT_TRUE(torch::equal(resized->get(0, 1).image, open(o.out, manifest, 24, false)->get(0, 1).image));
}

}  // namespace
}  // namespace medtrain::data::shard
