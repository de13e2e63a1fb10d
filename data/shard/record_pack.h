#pragma once
// The plumbing shared by the packs of records that are read whole into RAM
// (tokenised reports, data/text/text_pack.h; utterances,
// data/audio/speech_pack.h): one split per shard in manifest order, no
// resume, metadata.json rewritten with "complete": true at the end; opened
// whole, shard by shard, after checking the pack against the config. What a
// record holds and what must match stay with each pack.
#include <cstddef>
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "data/shard/shard_metadata.h"

namespace medtrain::data::shard {

// Counts a manifest row of `split` (and its patient's split) in `meta`.
// Throws DataError("<where>: split ... cannot name a shard file") when the
// split holds a '/' or NUL; `where` names the row.
void count_packed_row(ShardMetadata& meta, const std::string& split, const std::string& patient,
                      const std::string& where);

struct PackedRecord {
  std::vector<uint8_t> bytes;
  int64_t label = 0;  // the shard index's label
};

struct RecordPackCounts {
  size_t shards = 0;
  uint64_t bytes = 0;
};

// Writes the pack into `out` (created when missing, shards of an earlier pack
// removed): `meta` with "complete": false, then records 0..n-1, made by
// `record(i)` one at a time and grouped by split (`split_of(i)`, equal splits
// adjacent), one split per shard file, then `meta` with "complete": true.
RecordPackCounts write_record_pack(const std::string& out, uint64_t shard_bytes, ShardMetadata& meta, size_t n,
                                   const std::function<std::string(size_t)>& split_of,
                                   const std::function<PackedRecord(size_t)>& record);

// "data.shards DIR", how the pack-against-config errors name the pack, and
// the hint they end with (re-pack into DIR).
std::string pack_where(const std::string& dir);
std::string repack_hint(const std::string& dir);

// DIR/metadata.json of a pack that finished. Throws DataError for an
// incomplete pack (an interrupted `medtrain pack`).
ShardMetadata read_complete_pack_metadata(const std::string& dir);

// Throws DataError (pack_where + repack_hint) when the pack was made with
// another tokenizer file than model.pretrained `tokenizer_dir`'s `file` with
// SHA-256 `sha`, or from another manifest than `manifest` when that names an
// existing file.
void check_pack_sources(const std::string& dir, const ShardMetadata& meta, const std::string& packed_tokenizer_file,
                        const std::string& packed_tokenizer_sha256, const std::string& tokenizer_dir,
                        const std::string& file, const std::string& sha, const std::string& manifest);

// Reads the shards of `split` (empty: every shard) of the pack in `dir`, each
// whole, in metadata order, and calls `each(data, size, where)` for every
// record after its CRC check. Throws DataError naming the shard file for a
// missing, truncated or corrupt shard, or one whose record count differs from
// metadata.json.
void read_packed_records(const std::string& dir, const ShardMetadata& meta, const std::string& split,
                         const std::function<void(const uint8_t*, size_t, const std::string&)>& each);

}  // namespace medtrain::data::shard
