#pragma once
// The node-local cache tier that keeps epoch 2+ off the NAS.
//
// RAM: an LRU of Blocks (runs of consecutive records read with one pread),
// keyed by shard and block number, holding at most max(ram_bytes, working set)
// bytes. The working set (a few blocks per loader thread) is kept even with
// data.cache_ram_gb = 0, because the shuffle buffer reads each block's records
// close together in time, and re-reading the block for each of them would
// multiply the NAS traffic. Concurrent requests for one block share one read.
//
// Disk (data.cache_dir): see Note [Background copies]. The first read of a
// shard that has no local copy is served from the source at once, while the
// whole file is copied in the background to DIR/<manifest sha256 prefix>/
// <file>.tmp-<pid>-<n>, its SHA-256 compared with metadata.json, and only then
// renamed into place; from then on that shard's blocks are read from the local
// copy. A local copy found when a shard is first used (a later run, or another
// rank on the node) is re-checked (SHA-256) before it is used; one that does
// not match is deleted and copied again.
//
// Thread-safe.
#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <future>
#include <list>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "data/shard/cache_copy.h"
#include "data/shard/shard_metadata.h"
#include "data/shard/shard_reader.h"

namespace medtrain::data::shard {

struct CacheOptions {
  uint64_t ram_bytes = 0;       // data.cache_ram_gb
  uint64_t working_set_bytes = 64ull << 20;
  std::string dir;              // data.cache_dir; empty = no disk tier
  std::string dataset_key;      // distinguishes packs sharing one cache dir (manifest sha256)
  size_t copy_threads = 2;      // shards copied at the same time (per process)
  uint64_t copy_chunk_bytes = 8ull << 20;
  int copy_attempts = 2;        // bad copies of a shard before it is read in place for the rest of the run
  // Called on the copying thread after each chunk; may block (tests gate and
  // observe copies with it). Empty = none.
  std::function<void(const CopyProgress&)> on_copy_progress;
};

struct CacheStats {
  uint64_t ram_hits = 0, ram_misses = 0;
  uint64_t disk_hits = 0;        // a valid local copy was found and used
  uint64_t disk_fetches = 0;     // copied from the source, verified and put in place
  uint64_t disk_refetches = 0;   // a local copy failed its checksum and was replaced
  uint64_t bad_copies = 0;       // copies discarded: SHA-256 mismatch or I/O error
  uint64_t source_mismatches = 0;  // shards read in place after copy_attempts bad copies
  uint64_t blocks_from_source = 0, blocks_from_local = 0;  // RAM misses, by where they were read
  std::string last_copy_error;   // why the latest bad copy was discarded
};

class ShardCache {
 public:
  explicit ShardCache(CacheOptions options);
  // Copies queued are dropped; running ones stop within one chunk and delete
  // their temp file. Blocks until they have.
  ~ShardCache();
  ShardCache(const ShardCache&) = delete;
  ShardCache& operator=(const ShardCache&) = delete;

  // Records [first, first + count) of the shard `source` (block `block_no`),
  // through the RAM tier, read from the verified local copy when there is one,
  // else from `source` (a local copy is then started in the background).
  // `source` must stay alive while the cache is used. Throws DataError when the
  // read fails, or when data.cache_dir cannot be created.
  std::shared_ptr<const Block> read_block(const ShardReader& source, const ShardFileInfo& info, size_t block_no,
                                          size_t first, size_t count);
  // As read_block, for the loader's read-ahead: loads the block when nobody
  // has, and returns at once when it is cached or another thread is loading it.
  void warm_block(const ShardReader& source, const ShardFileInfo& info, size_t block_no, size_t first,
                  size_t count);
  // The cached block for `key`, or load() it (once, however many threads ask).
  // With wait = false a block cached or being loaded returns null at once.
  std::shared_ptr<const Block> block(const std::string& key,
                                     const std::function<std::shared_ptr<const Block>()>& load, bool wait = true);
  // Blocks until no copy is queued or running (tests; a caller that wants the
  // disk tier complete before it exits).
  void wait_for_copies();
  CacheStats stats() const;
  const CacheOptions& options() const { return options_; }

 private:
  struct Entry {
    std::shared_future<std::shared_ptr<const Block>> value;
    size_t bytes = 0;  // 0 while loading
    std::list<std::string>::iterator lru;
  };
  // Where a shard's blocks come from; see Note [Background copies].
  enum class Tier { kChecking, kSource, kCopying, kLocal, kSourceOnly };
  struct ShardState {
    Tier tier = Tier::kChecking;
    std::shared_ptr<const ShardReader> local;
    int bad_copies = 0;
  };
  struct CopyJob {
    std::string source, local;
    ShardFileInfo info;
  };
  std::shared_ptr<const Block> load_block(const ShardReader& source, const ShardFileInfo& info, size_t block_no,
                                          size_t first, size_t count, bool wait);
  void evict_locked();
  std::string local_file(const ShardFileInfo& info) const;
  // The local copy's reader, or null: read the source.
  std::shared_ptr<const ShardReader> reader_for(const ShardReader& source, const ShardFileInfo& info);
  void check_existing_copy(const std::string& source, const ShardFileInfo& info);
  void schedule_copy_locked(const std::string& source, const ShardFileInfo& info);
  void copy_worker();
  void run_copy(const CopyJob& job);
  void copy_failed(const CopyJob& job, const std::string& why);

  CacheOptions options_;
  mutable std::mutex mu_;
  std::map<std::string, Entry> blocks_;
  std::list<std::string> lru_;  // front = most recent
  uint64_t held_bytes_ = 0;
  CacheStats stats_;
  bool folder_ready_ = false;
  std::map<std::string, ShardState> shards_;  // by source path
  std::deque<CopyJob> queue_;
  size_t copies_running_ = 0;
  std::condition_variable changed_;  // a shard's tier, the queue or copies_running_ changed
  std::atomic<bool> stopping_{false};
  std::vector<std::thread> workers_;
};

}  // namespace medtrain::data::shard
