#pragma once
// Writes the shards of a pack one split at a time (shard_format.h): records
// are appended in order, a shard ends before the record that would take it
// past shard_bytes, and each finished shard is written atomically (NAME.tmp,
// fsync, rename), listed in the metadata and the metadata rewritten: the
// resume point of an interrupted pack. Used by the DICOM packer (packer.h)
// and the text packer (data/text/text_pack.h).
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "data/shard/shard_format.h"
#include "data/shard/shard_metadata.h"

namespace medtrain::data::shard {

class ShardWriter {
 public:
  // `meta` gets each finished shard and is written to out/metadata.json.
  ShardWriter(std::string out, uint64_t shard_bytes, ShardMetadata& meta)
      : out_(std::move(out)), shard_bytes_(shard_bytes), meta_(meta) {}

  // The next records belong to shard `number` of `split`; `first_row` is the
  // position of the first among the split's manifest rows.
  void start(const std::string& split, size_t number, uint64_t first_row);
  // `row`: the record's position among its split's manifest rows.
  void add(const std::vector<uint8_t>& record, int64_t label, uint64_t row);
  // Writes the current shard (nothing when it holds no record).
  void finish();

  size_t shards_written() const { return shards_written_; }
  uint64_t bytes_written() const { return bytes_written_; }

 private:
  std::string out_;
  uint64_t shard_bytes_;
  ShardMetadata& meta_;
  std::string split_;
  size_t number_ = 0;
  uint64_t first_row_ = 0;
  std::vector<uint8_t> bytes_;
  std::vector<IndexEntry> entries_;
  size_t shards_written_ = 0;
  uint64_t bytes_written_ = 0;
};

// Deletes what a pack writes (*.shard, *.shard.tmp, metadata.json.tmp) in
// `out` unless it is one of `kept`: leftovers of an earlier run.
void remove_unlisted_shards(const std::string& out, const std::vector<ShardFileInfo>& kept);

}  // namespace medtrain::data::shard
