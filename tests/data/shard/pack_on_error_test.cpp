// pack --on-error: with skip, files that cannot be read or decoded are left out
// and listed exactly (path, manifest line, split, why), the output stays
// byte-identical for any worker count and resumable; with fail, the error names
// the file and its manifest line and no pack is left looking complete.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "data/data_error.h"
#include "data/shard/packer.h"
#include "data/shard/shard_dataset.h"
#include "data/shard/shard_metadata.h"
#include "data/shard/shard_reader.h"
#include "tests/data/shard/shard_test_util.h"

namespace medtrain::data::shard {
namespace {

namespace fs = std::filesystem;
using medtrain::testing::TempDir;
using namespace medtrain::data::shard::testing;

// One manifest row as the test reads the CSV itself (header: path,label,patient_id,split).
struct Row {
  std::string path, split;
  size_t line = 0;
};

std::vector<Row> manifest_rows(const std::string& manifest) {
  std::ifstream in(manifest);
  std::vector<Row> rows;
  std::string text;
  for (size_t line = 1; std::getline(in, text); ++line) {
    if (line == 1 || text.empty()) continue;
    std::stringstream fields(text);
    Row r;
    std::string label, patient;
    std::getline(fields, r.path, ',');
    std::getline(fields, label, ',');
    std::getline(fields, patient, ',');
    std::getline(fields, r.split, ',');
    r.line = line;
    rows.push_back(r);
  }
  return rows;
}

// The ids of every record of `split`, in shard order.
std::vector<std::string> packed_ids(const std::string& out, const std::string& split) {
  std::vector<std::string> ids;
  for (const auto& s : read_metadata(out).shards) {
    if (s.split != split) continue;
    ShardReader r((fs::path(out) / s.file).string());
    for (size_t i = 0; i < r.size(); ++i) ids.push_back(r.read_record(i).id);
  }
  return ids;
}

class PackOnErrorTest : public ::testing::Test {
 protected:
  void SetUp() override {
    manifest_ = make_dicom_set(dir_);
    rows_ = manifest_rows(manifest_);
    // Bad files: the second train row (inside the first shard, so a resume has
    // to count it), a later train row, and one val row. Garbage and a truncation.
    std::vector<size_t> train, val;
    for (size_t i = 0; i < rows_.size(); ++i) (rows_[i].split == "train" ? train : val).push_back(i);
    ASSERT_GT(train.size(), 10u);
    ASSERT_GT(val.size(), 2u);
    bad_ = {train[1], train[train.size() - 3], val[1]};
    const fs::path root = fs::path(manifest_).parent_path();
    write_bytes(root / rows_[bad_[0]].path, std::vector<char>(300, 'x'));
    auto half = read_bytes(root / rows_[bad_[1]].path);
    half.resize(200);
    write_bytes(root / rows_[bad_[1]].path, half);
    write_bytes(root / rows_[bad_[2]].path, std::vector<char>(1000, '\0'));
  }
  PackOptions options(const std::string& name, PackOnError on_error, size_t workers = 2) const {
    auto o = pack_options(manifest_, dir_.str(name));
    o.on_error = on_error;
    o.workers = workers;
    o.compression = "none";
    return o;
  }
  bool is_bad(size_t i) const { return std::find(bad_.begin(), bad_.end(), i) != bad_.end(); }
  TempDir dir_{"medtrain_pack_err"};
  std::string manifest_;
  std::vector<Row> rows_;
  std::vector<size_t> bad_;  // indices into rows_, in manifest order within each split
};

TEST_F(PackOnErrorTest, SkipLeavesBadFilesOutAndListsExactlyThem) {
  const auto o = options("out", PackOnError::kSkip);
  const PackSummary s = pack_dataset(o);
  const ShardMetadata meta = read_metadata(o.out);
  EXPECT_TRUE(meta.complete);
  // Expected list: split order (train < val), then manifest order.
  std::vector<size_t> expected = {bad_[0], bad_[1], bad_[2]};
  ASSERT_EQ(meta.skipped.size(), expected.size());
  for (size_t k = 0; k < expected.size(); ++k) {
    const Row& r = rows_[expected[k]];
    EXPECT_EQ(meta.skipped[k].path, r.path);
    EXPECT_EQ(meta.skipped[k].line, r.line);
    EXPECT_EQ(meta.skipped[k].split, r.split);
    EXPECT_NE(meta.skipped[k].error.find(r.path), std::string::npos) << meta.skipped[k].error;
    EXPECT_EQ(meta.skipped[k].error.find(dir_.str()), std::string::npos) << "machine path: " << meta.skipped[k].error;
  }
  EXPECT_TRUE(s.skipped == meta.skipped);
  EXPECT_EQ(s.records, rows_.size() - 3);
  for (const std::string split : {"train", "val"}) {
    std::vector<std::string> want;
    for (size_t i = 0; i < rows_.size(); ++i) {
      if (rows_[i].split == split && !is_bad(i)) want.push_back(rows_[i].path);
    }
    EXPECT_EQ(packed_ids(o.out, split), want) << split;
    EXPECT_EQ(meta.records_per_split.at(split), want.size()) << split;
  }
  ShardDatasetOptions d;
  d.dir = o.out;
  d.split = "train";
  EXPECT_EQ(open_shard_dataset(d)->size(), packed_ids(o.out, "train").size());
}

TEST_F(PackOnErrorTest, SkippedOutputDoesNotDependOnWorkersAndResumesByteIdentically) {
  const auto one = options("w1", PackOnError::kSkip, 1);
  const auto four = options("w4", PackOnError::kSkip, 4);
  pack_dataset(one);
  pack_dataset(four);
  const auto bytes = folder_bytes(one.out);
  EXPECT_TRUE(bytes == folder_bytes(four.out));

  // Interrupted after the first train shards (which hold a skipped row): the
  // resume must count that row to know where it stopped.
  auto meta = read_metadata(one.out);
  std::vector<ShardFileInfo> kept;
  for (const auto& s : meta.shards) {
    if (s.split == "train" && kept.size() < 2) kept.push_back(s);
  }
  for (const auto& s : meta.shards) {
    if (std::find_if(kept.begin(), kept.end(), [&](const ShardFileInfo& k) { return k.file == s.file; }) == kept.end()) {
      fs::remove(fs::path(one.out) / s.file);
    }
  }
  meta.shards = kept;
  meta.complete = false;
  meta.skipped.resize(1);  // only the first train skip had happened
  write_metadata(one.out, meta);
  const PackSummary s = pack_dataset(options("w1", PackOnError::kSkip, 3));
  EXPECT_EQ(s.shards_kept, 2u);
  EXPECT_TRUE(folder_bytes(one.out) == bytes);
}

TEST_F(PackOnErrorTest, FailNamesFileAndLineAndLeavesNoCompletePack) {
  const auto o = options("out", PackOnError::kFail);
  std::string msg;
  try {
    pack_dataset(o);
  } catch (const DataError& e) {
    msg = e.what();
  }
  const Row& first = rows_[bad_[0]];
  EXPECT_NE(msg.find(manifest_ + ":" + std::to_string(first.line) + ": cannot pack " + first.path + ": "),
            std::string::npos) << msg;
  EXPECT_NE(msg.find("--on-error skip"), std::string::npos) << msg;
  EXPECT_EQ(msg.find('\n'), std::string::npos) << msg;
  for (const auto& e : fs::directory_iterator(o.out)) {
    EXPECT_EQ(e.path().string().find(".tmp"), std::string::npos) << "left behind: " << e.path();
  }
  EXPECT_FALSE(read_metadata(o.out).complete);
  ShardDatasetOptions d;
  d.dir = o.out;
  d.split = "train";
  EXPECT_THROW(open_shard_dataset(d), DataError);

  // The same folder packed again with skip finishes it; packed again with fail,
  // shards that left files out are not kept: it fails again.
  pack_dataset(options("out", PackOnError::kSkip));
  EXPECT_TRUE(read_metadata(o.out).complete);
  EXPECT_EQ(read_metadata(o.out).skipped.size(), 3u);
  EXPECT_THROW(pack_dataset(o), DataError);
  EXPECT_FALSE(read_metadata(o.out).complete);  // not the earlier, complete, metadata.json
  EXPECT_THROW(open_shard_dataset(d), DataError);
}

TEST(PackOnError, EveryFileBadIsAnErrorEvenWithSkip) {
  TempDir dir("medtrain_pack_allbad");
  const std::string manifest = make_dicom_set(dir, 6);
  for (const auto& r : manifest_rows(manifest)) {
    write_bytes(fs::path(manifest).parent_path() / r.path, std::vector<char>(10, 'x'));
  }
  auto o = pack_options(manifest, dir.str("out"));
  o.on_error = PackOnError::kSkip;
  try {
    pack_dataset(o);
    ADD_FAILURE() << "no error";
  } catch (const DataError& e) {
    EXPECT_NE(std::string(e.what()).find("none of the 6 files could be packed"), std::string::npos) << e.what();
  }
}

}  // namespace
}  // namespace medtrain::data::shard
