#pragma once
// Reads every record of every shard of a pack through ShardReader (blocks of
// consecutive records, one pread each), checking each record's CRC32C and
// decoding it; optionally also each file's SHA-256 against metadata.json.
// `medtrain verify-shards` runs it: a retention check, and the streaming
// throughput that scripts/bench/shard_stream_vs_dd.sh compares with dd.
#include <cstdint>
#include <string>
#include <vector>

namespace medtrain::data::shard {

struct VerifyOptions {
  std::string dir;
  uint64_t block_bytes = 4ull << 20;
  bool check_sha256 = true;
  bool decode = true;  // false: CRC only (the pure streaming cost)
};

struct VerifyReport {
  // bad_records counts records that fail their CRC or decoding, and records
  // whose label is outside the classes the pack declares (label_names).
  uint64_t shards = 0, records = 0, bad_records = 0, bad_files = 0, bytes = 0;
  double seconds = 0;
  std::vector<std::string> problems;  // one line each: file, record, offset, what
};

// Throws DataError when the pack itself cannot be opened (no metadata, a
// missing or truncated shard) or is incomplete (an interrupted pack,
// "complete": false); per-record and per-file problems are reported.
VerifyReport verify_shards(const VerifyOptions& options);

}  // namespace medtrain::data::shard
