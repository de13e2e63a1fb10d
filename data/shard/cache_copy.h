#pragma once
// The disk tier's background copy (shard_cache.h): a shard file copied, chunk by
// chunk, to a temp name beside its destination that is unique to this process
// and call (ranks on one node share the cache folder), and fsynced. Between
// chunks it reports progress and checks a stop flag, so that a ShardCache being
// destroyed ends its copies within one chunk and leaves no temp file behind.
#include <atomic>
#include <cstdint>
#include <functional>
#include <string>

namespace medtrain::data::shard {

struct CopyProgress {
  const std::string& temp;  // the file being written
  uint64_t copied = 0;      // bytes written so far
  const std::atomic<bool>& stopping;  // set when the copy is to be abandoned
};

// Copies `from` to "<to>.tmp-<pid>-<n>", fsyncs it and returns that name (no
// rename: the caller verifies first). Calls `progress` (when set) after each
// chunk of `chunk_bytes`, on this thread. Returns "" when `stopping` was set,
// having deleted the temp file. Throws DataError naming the file on an I/O
// error, also without leaving the temp file.
std::string copy_to_unique_temp(const std::string& from, const std::string& to, uint64_t chunk_bytes,
                                const std::atomic<bool>& stopping,
                                const std::function<void(const CopyProgress&)>& progress);

}  // namespace medtrain::data::shard
