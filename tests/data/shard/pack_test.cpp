// pack + ShardDataset end to end on synthetic DICOM: samples equal DicomDataset's
// bit for bit, output independent of --workers, resume after an interruption,
// and every bad input gives an error naming the file (and record) at fault.
#include "data/shard/packer.h"

#include <gtest/gtest.h>

#include <cstring>
#include <filesystem>

#include "data/batch_loader.h"
#include "data/data_error.h"
#include "data/dicom/dicom_dataset.h"
#include "data/shard/crc32c.h"
#include "data/shard/shard_dataset.h"
#include "data/shard/shard_format.h"
#include "data/shard/shard_metadata.h"
#include "data/shard/shard_reader.h"
#include "tests/data/shard/shard_test_util.h"

namespace medtrain::data::shard {
namespace {

namespace fs = std::filesystem;
using medtrain::testing::TempDir;
using namespace medtrain::data::shard::testing;

class PackTest : public ::testing::Test {
 protected:
  void SetUp() override { manifest_ = make_dicom_set(dir_); }
  std::string pack(const std::string& name, size_t workers = 2, const std::string& compression = "zstd") {
    auto o = pack_options(manifest_, dir_.str(name));
    o.workers = workers;
    o.compression = compression;
    pack_dataset(o);
    return o.out;
  }
  DicomDatasetOptions preprocess(const std::string& split, bool augment) const {
    DicomDatasetOptions o;
    o.manifest = manifest_;
    o.split = split;
    o.image_size = 24;  // packed at 32: the resize runs at read time, as for files
    o.window_center = -600;
    o.window_width = 1500;
    o.mean = 0.5;
    o.std = 0.25;
    o.augment = augment;
    return o;
  }
  std::shared_ptr<ShardDataset> open(const std::string& out, const std::string& split, bool augment = false) const {
    ShardDatasetOptions o;
    o.dir = out;
    o.split = split;
    o.preprocess = preprocess(split, augment);
    o.block_bytes = 4096;
    return open_shard_dataset(o);
  }
  TempDir dir_{"medtrain_pack"};
  std::string manifest_;
};

TEST_F(PackTest, SamplesEqualDicomDatasetBitForBit) {
  const auto out = pack("shards");
  const auto meta = read_metadata(out);
  EXPECT_TRUE(meta.complete);
  EXPECT_GT(meta.shards.size(), 4u);  // small shards: several per split
  // CT stored values (12 bits, intercept -1024) are kept as int16, not float32.
  EXPECT_EQ(ShardReader((fs::path(out) / meta.shards[0].file).string()).read_record(0).encoding,
            PixelEncoding::kInt16Linear);
  for (const std::string split : {"train", "val"}) {
    for (const bool augment : {false, true}) {
      auto shards = open(out, split, augment);
      auto files = open_dicom_dataset(preprocess(split, augment));
      ASSERT_EQ(shards->size(), files->size());
      EXPECT_EQ(meta.records_per_split.at(split), files->size());
      for (size_t i = 0; i < files->size(); ++i) {
        const Sample a = shards->get(i, 1000 + i), b = files->get(i, 1000 + i);
        ASSERT_TRUE(torch::equal(a.image, b.image)) << split << " " << i << " " << files->describe(i);
        EXPECT_EQ(a.target.item<int64_t>(), b.target.item<int64_t>());
        EXPECT_EQ(shards->label(i), files->label(i));
      }
    }
  }
  // The patient -> split map agrees with the manifest.
  const auto rows = read_manifest({manifest_, "", "", true}).rows;
  for (const auto& r : rows) EXPECT_EQ(meta.patient_split.at(r.patient_id), r.split);
}

TEST_F(PackTest, OutputDoesNotDependOnWorkersOrRuns) {
  const auto one = folder_bytes(pack("w1", 1));
  const auto four = folder_bytes(pack("w4", 4));
  ASSERT_EQ(one.size(), four.size());
  for (size_t i = 0; i < one.size(); ++i) {
    EXPECT_EQ(one[i].first, four[i].first);
    EXPECT_TRUE(one[i].second == four[i].second) << one[i].first;
  }
}

TEST_F(PackTest, ResumeKeepsVerifiedShardsAndRewritesTheRest) {
  const auto out = pack("shards", 2, "none");
  const auto before = folder_bytes(out);
  const auto meta = read_metadata(out);
  // A killed pack: shard 2 of train missing, a half-written .tmp, shard 1 of
  // val corrupted (its SHA-256 no longer matches), metadata not complete.
  fs::remove(fs::path(out) / "train-00002.shard");
  write_bytes(fs::path(out) / "train-00003.shard.tmp", {'x', 'y'});
  auto val1 = read_bytes(fs::path(out) / "val-00001.shard");
  val1[100] ^= 0x10;
  write_bytes(fs::path(out) / "val-00001.shard", val1);
  auto partial = meta;
  partial.complete = false;
  write_metadata(out, partial);
  EXPECT_NE(error_of([&] { open(out, "train"); }).find("the pack was interrupted"), std::string::npos);

  auto o = pack_options(manifest_, out);
  o.compression = "none";
  const PackSummary s = pack_dataset(o);
  size_t train_shards = 0, val_shards = 0;
  for (const auto& f : meta.shards) (f.split == "train" ? train_shards : val_shards)++;
  EXPECT_EQ(s.shards_kept, 2u + 1u);  // train-00000, -00001 and val-00000
  EXPECT_EQ(s.shards_written, train_shards - 2 + val_shards - 1);
  EXPECT_TRUE(folder_bytes(out) == before);  // byte-identical to the uninterrupted pack, no .tmp left
}

TEST_F(PackTest, FlippedBitIsSkippedAndCountedOrFails) {
  const auto out = pack("shards", 2, "none");
  const fs::path file = fs::path(out) / "train-00000.shard";
  IndexEntry e;
  {
    ShardReader r(file.string());
    ASSERT_GT(r.size(), 2u);
    e = r.entry(1);
  }
  auto bytes = read_bytes(file);
  bytes[e.offset + e.length / 2] ^= 0x04;
  write_bytes(file, bytes);

  auto ds = open(out, "train");
  const std::string msg = error_of([&] { ds->get(1, 0); });
  EXPECT_NE(msg.find(file.string() + ": record 1 at offset " + std::to_string(e.offset) + ": checksum mismatch"),
            std::string::npos) << msg;
  EXPECT_EQ(ds->bad_records(), 1u);
  EXPECT_NO_THROW(ds->get(0, 0));  // its neighbours in the same block are fine
  EXPECT_NO_THROW(ds->get(2, 0));

  std::vector<size_t> all(ds->size());
  for (size_t i = 0; i < all.size(); ++i) all[i] = i;
  LoaderOptions lo;
  lo.batch_size = all.size();
  lo.on_error = OnError::kSkip;
  {
    BatchLoader skip(ds, all, lo);
    auto batch = skip.next();
    ASSERT_TRUE(batch);
    EXPECT_EQ(batch->images.size(0), static_cast<int64_t>(all.size() - 1));
    EXPECT_EQ(skip.skipped_total(), 1u);
  }
  lo.on_error = OnError::kFail;
  BatchLoader fail(ds, all, lo);
  EXPECT_NE(error_of([&] { fail.next(); }).find("record 1 at offset"), std::string::npos);
}

TEST_F(PackTest, IndexEntryPastTheEndIsNamed) {
  const auto out = pack("shards", 2, "none");
  const fs::path file = fs::path(out) / "val-00000.shard";
  auto bytes = read_bytes(file);
  // Footer: n, index_offset, crc. Grow entry 0's length past the records, fix the crc.
  uint64_t n, index_offset;
  std::memcpy(&n, bytes.data() + bytes.size() - kFooterBytes, 8);
  std::memcpy(&index_offset, bytes.data() + bytes.size() - kFooterBytes + 8, 8);
  const uint32_t huge = 1u << 30;
  std::memcpy(bytes.data() + index_offset + 8, &huge, 4);
  const uint32_t crc = crc32c(bytes.data() + index_offset, n * kIndexEntryBytes);
  std::memcpy(bytes.data() + bytes.size() - kFooterBytes + 16, &crc, 4);
  write_bytes(file, bytes);
  const std::string msg = error_of([&] { open(out, "val"); });
  EXPECT_NE(msg.find(file.string()), std::string::npos) << msg;
  EXPECT_NE(msg.find("index entry 0"), std::string::npos) << msg;
  EXPECT_NE(msg.find("points past the end"), std::string::npos) << msg;
}

TEST_F(PackTest, TruncatedShardIsNamed) {
  const auto out = pack("shards", 2, "zstd");
  const fs::path file = fs::path(out) / "train-00001.shard";
  auto bytes = read_bytes(file);
  bytes.resize(bytes.size() - 7);
  write_bytes(file, bytes);
  const std::string msg = error_of([&] { open(out, "train"); });
  EXPECT_NE(msg.find(file.string() + ": truncated"), std::string::npos) << msg;
  write_bytes(file, {});
  EXPECT_NE(error_of([&] { open(out, "train"); }).find(file.string() + ": truncated"), std::string::npos);
}

TEST_F(PackTest, BadManifestsAreRefusedByName) {
  const auto rows = read_manifest({manifest_, "", "", true}).rows;
  const std::string root = fs::path(manifest_).parent_path().string();
  auto pack_csv = [&](const std::string& text) {
    const auto csv = dir_.write("dicom/bad.csv", text);
    return error_of([&] { pack_dataset(pack_options(csv.string(), dir_.str("bad_out"))); });
  };
  const auto& a = rows[0];
  const auto& b = rows[1];
  const std::string two_splits = "path,label,patient_id,split\n" + a.path + ",0,PX,train\n" + b.path + ",1,PX,val\n";
  const auto msg1 = pack_csv(two_splits);
  EXPECT_NE(msg1.find("patient PX is in split 'val'"), std::string::npos) << msg1;
  EXPECT_NE(msg1.find("bad.csv"), std::string::npos) << msg1;
  const auto msg2 = pack_csv("path,label,patient_id,split\n" + a.path + ",0,P1,train\n./" + a.path + ",0,P1,train\n");
  EXPECT_NE(msg2.find("duplicate path ./" + a.path), std::string::npos) << msg2;
  const auto msg3 = error_of([&] { pack_dataset(pack_options(dir_.str("nope.csv"), dir_.str("o"))); });
  EXPECT_NE(msg3.find(dir_.str("nope.csv") + ": manifest not found"), std::string::npos) << msg3;
  const auto msg4 = error_of([&] { open(dir_.str("empty_folder"), "train"); });
  EXPECT_NE(msg4.find("no shard metadata"), std::string::npos) << msg4;
  ShardDatasetOptions bad_window;
  bad_window.dir = dir_.str("x");
  bad_window.preprocess.window_width = 0;
  const auto msg5 = error_of([&] { open_shard_dataset(bad_window); });
  EXPECT_NE(msg5.find("window_width must be > 0"), std::string::npos) << msg5;
  (void)root;
}

}  // namespace
}  // namespace medtrain::data::shard
