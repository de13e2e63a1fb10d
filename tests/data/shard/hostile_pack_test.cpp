// Hostile and careless packs (issue 21): verify-shards refuses an interrupted
// pack and reports labels past the pack's declared classes; training checks
// every record's label against model.num_classes when the pack is opened;
// records with non-finite values are errors naming the record.
#include <gtest/gtest.h>

#include <sys/stat.h>

#include <cmath>
#include <cstring>
#include <filesystem>
#include <limits>

#include "data/data_error.h"
#include "data/shard/shard_dataset.h"
#include "data/shard/shard_format.h"
#include "data/shard/shard_metadata.h"
#include "data/shard/shard_reader.h"
#include "data/shard/shard_verify.h"
#include "tests/data/shard/shard_test_util.h"

namespace medtrain::data::shard {
namespace {

namespace fs = std::filesystem;
using medtrain::testing::TempDir;
using namespace medtrain::data::shard::testing;

class HostilePackTest : public ::testing::Test {
 protected:
  void SetUp() override {
    manifest_ = make_dicom_set(dir_);
    out_ = dir_.str("shards");
    pack_dataset(pack_options(manifest_, out_));
  }
  std::shared_ptr<ShardDataset> open(const std::string& split, int64_t num_classes) const {
    ShardDatasetOptions o;
    o.dir = out_;
    o.split = split;
    o.preprocess.manifest = manifest_;
    o.preprocess.num_classes = num_classes;
    return open_shard_dataset(o);
  }
  TempDir dir_{"medtrain_hostile_pack"};
  std::string manifest_, out_;
};

TEST_F(HostilePackTest, VerifyRefusesAnIncompletePack) {
  VerifyOptions v;
  v.dir = out_;
  EXPECT_EQ(verify_shards(v).bad_records, 0u);  // the finished pack is fine
  ShardMetadata meta = read_metadata(out_);
  meta.complete = false;  // as `pack` leaves it when interrupted
  write_metadata(out_, meta);
  const std::string msg = error_of([&] { verify_shards(v); });
  for (const std::string& part : std::vector<std::string>{(fs::path(out_) / kMetadataFile).string(), "incomplete",
                                                          "\"complete\": false", "re-run it with the same arguments"}) {
    EXPECT_NE(msg.find(part), std::string::npos) << part << " not in: " << msg;
  }
}

TEST_F(HostilePackTest, VerifyReportsLabelsPastTheDeclaredClasses) {
  ShardMetadata meta = read_metadata(out_);
  VerifyOptions v;
  v.dir = out_;
  meta.label_names = {"none", "lesion"};  // labels 0 and 1: all inside
  write_metadata(out_, meta);
  EXPECT_EQ(verify_shards(v).bad_records, 0u);
  meta.label_names = {"none"};  // every label-1 record is now outside
  write_metadata(out_, meta);
  uint64_t ones = 0;
  for (const auto& s : meta.shards) {
    const ShardReader r((fs::path(out_) / s.file).string());
    for (size_t i = 0; i < r.size(); ++i) ones += r.entry(i).label == 1;
  }
  ASSERT_GT(ones, 0u);
  const VerifyReport report = verify_shards(v);
  EXPECT_EQ(report.bad_records, ones);
  ASSERT_FALSE(report.problems.empty());
  const std::string& first = report.problems.front();
  EXPECT_NE(first.find(".shard: record "), std::string::npos) << first;
  EXPECT_NE(first.find("label 1 is outside the 1 classes"), std::string::npos) << first;
}

TEST_F(HostilePackTest, TrainingChecksEveryIndexLabelAgainstNumClassesAtOpen) {
  // A split holding a label-1 record (the synthetic set has both classes).
  std::string split;
  for (const auto& s : read_metadata(out_).shards) {
    const ShardReader r((fs::path(out_) / s.file).string());
    for (size_t i = 0; i < r.size(); ++i) {
      if (r.entry(i).label == 1) split = s.split;
    }
  }
  ASSERT_FALSE(split.empty());
  EXPECT_GT(open(split, 2)->size(), 0u);
  EXPECT_GT(open(split, 0)->size(), 0u);  // 0: unchecked
  const std::string msg = error_of([&] { open(split, 1); });  // labels 0/1, one class
  for (const std::string& part :
       std::vector<std::string>{out_, ".shard: record ", "of split '" + split + "' in the packed manifest", "label 1",
                                "model.num_classes 1"}) {
    EXPECT_NE(msg.find(part), std::string::npos) << part << " not in: " << msg;
  }
}

TEST(HostileRecord, NonFiniteRescaleWindowOrPixelsAreNamed) {
  const std::vector<float> values = {1.5f, 2.25f, -3.0f, 4.0f};
  Record base;
  base.id = "a.dcm";
  set_pixels(base, values.data(), 2, 2, 1.0, 0.0);
  ASSERT_EQ(base.encoding, PixelEncoding::kFloat32);
  const auto encoded = [](const Record& r) { return encode_record(r, Compression::kNone); };
  {  // a hostile float32 record: the NaN is found while copying
    Record r = base;
    const float nan = std::numeric_limits<float>::quiet_NaN();
    std::memcpy(r.pixels.data() + 4, &nan, 4);
    const auto bytes = encoded(r);
    const Record back = decode_record(bytes.data(), bytes.size(), "p.shard: record 3");
    std::vector<float> out(4);
    const std::string msg = error_of([&] { decode_pixels(back, out.data(), "p.shard: record 3"); });
    EXPECT_NE(msg.find("p.shard: record 3: pixel values hold NaN or infinity"), std::string::npos) << msg;
  }
  std::vector<float> out(4);
  {
    const auto bytes = encoded(base);
    decode_pixels(decode_record(bytes.data(), bytes.size(), "ok"), out.data());
    EXPECT_EQ(out, values);
  }
  const double nan = std::nan("");
  for (const auto& [slope, intercept] : {std::pair{nan, 0.0}, std::pair{1.0, HUGE_VAL}, std::pair{1e300, 0.0}}) {
    Record r = base;
    r.slope = slope, r.intercept = intercept;
    const auto bytes = encoded(r);
    const std::string msg = error_of([&] { decode_record(bytes.data(), bytes.size(), "p.shard: record 4"); });
    EXPECT_NE(msg.find("p.shard: record 4: rescale slope or intercept"), std::string::npos) << msg;
  }
  for (const auto& [center, width] : {std::pair{nan, 400.0}, std::pair{40.0, nan}, std::pair{40.0, 1e-300}}) {
    Record r = base;
    r.has_window = true;
    r.window_center = center, r.window_width = width;
    const auto bytes = encoded(r);
    const std::string msg = error_of([&] { decode_record(bytes.data(), bytes.size(), "p.shard: record 5"); });
    EXPECT_NE(msg.find("p.shard: record 5: window center or width"), std::string::npos) << msg;
  }
  Record old = base;  // a width of 0 (ignored when reading) stays readable
  old.has_window = true;
  old.window_center = 40, old.window_width = 0;
  const auto bytes = encoded(old);
  EXPECT_NO_THROW(decode_record(bytes.data(), bytes.size(), "ok"));
}

TEST(HostileShardFile, FifoInPlaceOfAShardIsRefused) {
  TempDir dir;
  ASSERT_EQ(::mkfifo(dir.str("x.shard").c_str(), 0600), 0);
  const std::string msg = error_of([&] { ShardReader r(dir.str("x.shard")); });
  EXPECT_NE(msg.find(dir.str("x.shard") + ": not a regular file"), std::string::npos) << msg;
}

}  // namespace
}  // namespace medtrain::data::shard
