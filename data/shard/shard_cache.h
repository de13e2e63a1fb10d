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
// Disk (data.cache_dir): the first time a shard is used its whole file is
// copied to DIR/<manifest sha256 prefix>/<file>.tmp, its SHA-256 compared with
// metadata.json, and only then renamed into place. A later run (or process)
// re-checks the SHA-256 of the local copy before using it; a copy that does not
// match is deleted and fetched again. A source whose bytes do not match is not
// cached; it is read in place (its records are still checked one by one).
//
// Thread-safe.
#include <atomic>
#include <cstdint>
#include <functional>
#include <future>
#include <list>
#include <map>
#include <memory>
#include <mutex>
#include <string>

#include "data/shard/shard_metadata.h"
#include "data/shard/shard_reader.h"

namespace medtrain::data::shard {

struct CacheOptions {
  uint64_t ram_bytes = 0;       // data.cache_ram_gb
  uint64_t working_set_bytes = 64ull << 20;
  std::string dir;              // data.cache_dir; empty = no disk tier
  std::string dataset_key;      // distinguishes packs sharing one cache dir (manifest sha256)
};

struct CacheStats {
  uint64_t ram_hits = 0, ram_misses = 0;
  uint64_t disk_hits = 0;        // a valid local copy was used
  uint64_t disk_fetches = 0;     // copied from the source
  uint64_t disk_refetches = 0;   // a local copy failed its checksum and was replaced
  uint64_t source_mismatches = 0;  // the source's SHA-256 differs from metadata.json
};

class ShardCache {
 public:
  explicit ShardCache(CacheOptions options);

  // The path to read `info` from: the verified local copy, or `source` itself
  // when there is no disk tier (or the source fails its checksum). Call once
  // per shard (ShardDataset does, under a once-flag); different shards copy in
  // parallel, since an NFS client gets more from parallel streams than from one.
  std::string local_path(const std::string& source, const ShardFileInfo& info);
  // The cached block for `key`, or load() it (once, however many threads ask).
  std::shared_ptr<const Block> block(const std::string& key,
                                     const std::function<std::shared_ptr<const Block>()>& load);
  CacheStats stats() const;
  const CacheOptions& options() const { return options_; }

 private:
  struct Entry {
    std::shared_future<std::shared_ptr<const Block>> value;
    size_t bytes = 0;  // 0 while loading
    std::list<std::string>::iterator lru;
  };
  void evict_locked();

  CacheOptions options_;
  mutable std::mutex mu_;
  std::map<std::string, Entry> blocks_;
  std::list<std::string> lru_;  // front = most recent
  uint64_t held_bytes_ = 0;
  CacheStats stats_;
};

}  // namespace medtrain::data::shard
