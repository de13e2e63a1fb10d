#include "data/shard/shard_cache.h"

#include <filesystem>

#include "data/data_error.h"
#include "data/shard/digest.h"
#include "data/shard/durable_file.h"

namespace medtrain::data::shard {
namespace fs = std::filesystem;

ShardCache::ShardCache(CacheOptions options) : options_(std::move(options)) {}

CacheStats ShardCache::stats() const {
  std::lock_guard<std::mutex> lock(mu_);
  return stats_;
}

std::string ShardCache::local_path(const std::string& source, const ShardFileInfo& info) {
  if (options_.dir.empty()) return source;
  const fs::path folder = fs::path(options_.dir) / options_.dataset_key.substr(0, 16);
  const std::string local = (folder / info.file).string();
  auto count = [&](uint64_t CacheStats::*field) {
    std::lock_guard<std::mutex> lock(mu_);
    ++(stats_.*field);
  };
  std::error_code ec;
  if (fs::exists(local, ec)) {
    if (fs::file_size(local, ec) == info.bytes && sha256_file_hex(local) == info.sha256) {
      count(&CacheStats::disk_hits);
      return local;
    }
    fs::remove(local, ec);  // corrupt or stale: fetch again
    count(&CacheStats::disk_refetches);
  }
  fs::create_directories(folder, ec);
  if (ec) throw DataError("data.cache_dir: cannot create " + folder.string() + ": " + ec.message());
  const std::string tmp = copy_to_temp_synced(source, local);
  if (sha256_file_hex(tmp) != info.sha256) {
    fs::remove(tmp, ec);
    count(&CacheStats::source_mismatches);
    return source;
  }
  commit_temp(tmp, local);
  count(&CacheStats::disk_fetches);
  return local;
}

std::shared_ptr<const Block> ShardCache::block(const std::string& key,
                                               const std::function<std::shared_ptr<const Block>()>& load) {
  std::unique_lock<std::mutex> lock(mu_);
  auto it = blocks_.find(key);
  if (it != blocks_.end()) {
    ++stats_.ram_hits;
    lru_.splice(lru_.begin(), lru_, it->second.lru);
    auto value = it->second.value;
    lock.unlock();
    return value.get();  // waits when another thread is still loading it
  }
  ++stats_.ram_misses;
  std::promise<std::shared_ptr<const Block>> promise;
  lru_.push_front(key);
  blocks_[key] = Entry{promise.get_future().share(), 0, lru_.begin()};
  lock.unlock();
  std::shared_ptr<const Block> loaded;
  try {
    loaded = load();
  } catch (...) {
    promise.set_exception(std::current_exception());
    lock.lock();
    auto failed = blocks_.find(key);
    lru_.erase(failed->second.lru);
    blocks_.erase(failed);  // a later request tries again
    throw;
  }
  promise.set_value(loaded);
  lock.lock();
  auto done = blocks_.find(key);
  if (done != blocks_.end()) {
    done->second.bytes = loaded->bytes.size();
    held_bytes_ += done->second.bytes;
    evict_locked();
  }
  return loaded;
}

void ShardCache::evict_locked() {
  const uint64_t capacity = std::max(options_.ram_bytes, options_.working_set_bytes);
  auto it = lru_.end();
  while (held_bytes_ > capacity && it != lru_.begin()) {
    --it;
    auto entry = blocks_.find(*it);
    if (entry->second.bytes == 0) continue;  // still loading
    held_bytes_ -= entry->second.bytes;
    blocks_.erase(entry);
    it = lru_.erase(it);
  }
}

}  // namespace medtrain::data::shard
