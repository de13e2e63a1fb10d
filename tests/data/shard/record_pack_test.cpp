// The plumbing of record packs (data/shard/record_pack.h) on its own: records
// come back per split in write order, a split that would name a file outside
// the pack is refused naming the row, and a shard holding another record
// count than metadata.json, or an incomplete pack, is refused naming it.
#include "data/shard/record_pack.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "data/data_error.h"
#include "tests/common/temp_dir.h"

namespace medtrain::data::shard {
namespace {

ShardMetadata pack_of(const std::string& out, const std::vector<std::string>& splits) {
  ShardMetadata meta;
  meta.settings.compression = "none";
  meta.settings.target = kTextPackTarget;
  meta.text = TextPackInfo{"class", "vocab.txt", std::string(64, '0'), 8, 0};  // read_metadata needs it
  for (size_t i = 0; i < splits.size(); ++i) count_packed_row(meta, splits[i], "P" + std::to_string(i % 2), "row");
  const RecordPackCounts c = write_record_pack(
      out, 1 << 20, meta, splits.size(), [&](size_t i) { return splits[i]; },
      [&](size_t i) { return PackedRecord{std::vector<uint8_t>(i + 1, static_cast<uint8_t>(i)), 0}; });
  EXPECT_EQ(c.shards, 2u);
  return meta;
}

std::vector<std::vector<uint8_t>> records_of(const std::string& dir, const ShardMetadata& meta,
                                             const std::string& split) {
  std::vector<std::vector<uint8_t>> out;
  read_packed_records(dir, meta, split, [&](const uint8_t* p, size_t n, const std::string&) { out.emplace_back(p, p + n); });
  return out;
}

TEST(RecordPack, RecordsComeBackPerSplitInWriteOrder) {
  const medtrain::testing::TempDir dir;
  pack_of(dir.str(), {"train", "train", "val"});
  const ShardMetadata meta = read_complete_pack_metadata(dir.str());
  EXPECT_EQ(meta.records_per_split.at("train"), 2u);
  EXPECT_EQ(meta.records_per_split.at("val"), 1u);
  const auto train = records_of(dir.str(), meta, "train");
  ASSERT_EQ(train.size(), 2u);
  EXPECT_EQ(train[0], std::vector<uint8_t>{0});
  EXPECT_EQ(train[1], (std::vector<uint8_t>{1, 1}));
  EXPECT_EQ(records_of(dir.str(), meta, "").size(), 3u);
}

TEST(RecordPack, RefusesASplitThatCannotNameAShardFile) {
  ShardMetadata meta;
  try {
    count_packed_row(meta, "../x", "", "m.jsonl:5");
    FAIL() << "no error";
  } catch (const DataError& e) {
    EXPECT_NE(std::string(e.what()).find("m.jsonl:5: split \"../x\" cannot name a shard file"), std::string::npos)
        << e.what();
  }
}

TEST(RecordPack, RefusesAnotherRecordCountAndAnIncompletePack) {
  const medtrain::testing::TempDir dir;
  ShardMetadata meta = pack_of(dir.str(), {"train", "val"});
  meta.shards.at(0).records = 5;
  try {
    records_of(dir.str(), meta, "");
    FAIL() << "no error";
  } catch (const DataError& e) {
    EXPECT_NE(std::string(e.what()).find("1 records, metadata.json lists 5"), std::string::npos) << e.what();
  }
  meta.complete = false;
  write_metadata(dir.str(), meta);
  EXPECT_THROW(read_complete_pack_metadata(dir.str()), DataError);
}

}  // namespace
}  // namespace medtrain::data::shard
