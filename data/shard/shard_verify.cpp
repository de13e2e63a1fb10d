#include "data/shard/shard_verify.h"

#include <chrono>
#include <filesystem>

#include "data/data_error.h"
#include "data/shard/digest.h"
#include "data/shard/shard_format.h"
#include "data/shard/shard_metadata.h"
#include "data/shard/shard_reader.h"

namespace medtrain::data::shard {

VerifyReport verify_shards(const VerifyOptions& o) {
  const auto start = std::chrono::steady_clock::now();
  const ShardMetadata meta = read_metadata(o.dir);
  VerifyReport report;
  for (const auto& info : meta.shards) {
    const std::string path = (std::filesystem::path(o.dir) / info.file).string();
    if (o.check_sha256 && sha256_file_hex(path) != info.sha256) {
      ++report.bad_files;
      report.problems.push_back(path + ": SHA-256 differs from metadata.json");
    }
    const ShardReader reader(path);
    ++report.shards;
    report.bytes += reader.file_size();
    for (size_t first = 0; first < reader.size();) {
      size_t end = first + 1;
      uint64_t bytes = reader.entry(first).length;
      while (end < reader.size() && bytes + reader.entry(end).length <= o.block_bytes) bytes += reader.entry(end++).length;
      reader.prefetch(end, end - first);
      const Block block = reader.read_block(first, end - first);
      for (size_t i = first; i < end; ++i) {
        ++report.records;
        try {
          const uint8_t* p = reader.checked_record(block, i);
          if (o.decode) decode_record(p, reader.entry(i).length, reader.where(i));
        } catch (const DataError& e) {
          ++report.bad_records;
          report.problems.push_back(e.what());
        }
      }
      first = end;
    }
  }
  report.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  return report;
}

}  // namespace medtrain::data::shard
