#include "data/shard/shard_cache.h"

#include <filesystem>

#include "data/data_error.h"
#include "data/shard/digest.h"
#include "data/shard/durable_file.h"

namespace medtrain::data::shard {
namespace fs = std::filesystem;

// Note [Background copies]
// A shard's tier moves kChecking -> kLocal when a valid local copy is found,
// else -> kCopying (a copy is queued; reads go to the source meanwhile) ->
// kLocal once the copy is verified and renamed into place. A bad copy (SHA-256
// mismatch, I/O error) is deleted, never opened, and the shard goes back to
// kSource: the next read queues another copy, up to copy_attempts, after which
// it is kSourceOnly (the source itself is probably what differs from
// metadata.json; its records are still checked one by one). At most
// copy_threads copies run at once: each is a long sequential NAS read, and
// more of them would take bandwidth from the reads training waits for.
// Readers of a local copy are shared_ptrs, so a read in flight keeps its file
// open whatever happens to the tier. Each copy has its own temp name (pid and
// counter): ranks on one node that copy the same shard never write into each
// other's file, and renaming identical verified bytes over each other is
// harmless (an open reader keeps the inode it opened).

ShardCache::ShardCache(CacheOptions options) : options_(std::move(options)) {}

ShardCache::~ShardCache() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stopping_ = true;
    queue_.clear();
  }
  changed_.notify_all();
  for (auto& t : workers_) t.join();
}

CacheStats ShardCache::stats() const {
  std::lock_guard<std::mutex> lock(mu_);
  return stats_;
}

std::string ShardCache::local_file(const ShardFileInfo& info) const {
  return (fs::path(options_.dir) / options_.dataset_key.substr(0, 16) / info.file).string();
}

std::shared_ptr<const Block> ShardCache::read_block(const ShardReader& source, const ShardFileInfo& info,
                                                    size_t block_no, size_t first, size_t count) {
  return load_block(source, info, block_no, first, count, /*wait=*/true);
}

void ShardCache::warm_block(const ShardReader& source, const ShardFileInfo& info, size_t block_no, size_t first,
                            size_t count) {
  load_block(source, info, block_no, first, count, /*wait=*/false);
}

std::shared_ptr<const Block> ShardCache::load_block(const ShardReader& source, const ShardFileInfo& info,
                                                    size_t block_no, size_t first, size_t count, bool wait) {
  // Keyed by the source: a block read before the local copy existed stays valid
  // after it does (the bytes are the same, the SHA-256 says so).
  return block(source.path() + "#" + std::to_string(block_no), [&] {
    const auto local = reader_for(source, info);
    const ShardReader& rd = local ? *local : source;
    rd.prefetch(first + count, count);  // the next block of this shard, while this one is decoded
    auto loaded = std::make_shared<const Block>(rd.read_block(first, count));
    std::lock_guard<std::mutex> lock(mu_);
    ++(local ? stats_.blocks_from_local : stats_.blocks_from_source);
    return loaded;
  }, wait);
}

std::shared_ptr<const ShardReader> ShardCache::reader_for(const ShardReader& source, const ShardFileInfo& info) {
  if (options_.dir.empty()) return nullptr;
  std::unique_lock<std::mutex> lock(mu_);
  if (!folder_ready_) {
    const fs::path folder = fs::path(local_file(info)).parent_path();
    std::error_code ec;
    fs::create_directories(folder, ec);
    if (ec) throw DataError("data.cache_dir: cannot create " + folder.string() + ": " + ec.message());
    folder_ready_ = true;
  }
  auto it = shards_.find(source.path());
  if (it == shards_.end()) {
    shards_[source.path()].tier = Tier::kChecking;
    lock.unlock();  // hashing a local copy takes a while: other shards go on meanwhile
    check_existing_copy(source.path(), info);
    lock.lock();
    it = shards_.find(source.path());
  }
  changed_.wait(lock, [&] { return it->second.tier != Tier::kChecking; });
  if (it->second.tier == Tier::kSource) schedule_copy_locked(source.path(), info);
  return it->second.tier == Tier::kLocal ? it->second.local : nullptr;
}

void ShardCache::check_existing_copy(const std::string& source, const ShardFileInfo& info) {
  const std::string local = local_file(info);
  std::shared_ptr<const ShardReader> reader;
  bool existed = false;
  std::error_code ec;
  try {
    existed = fs::exists(local, ec);
    if (existed && fs::file_size(local, ec) == info.bytes && sha256_file_hex(local) == info.sha256) {
      reader = std::make_shared<const ShardReader>(local);
    }
  } catch (const std::exception&) {
    reader.reset();  // unreadable: treated as corrupt
  }
  if (existed && !reader) fs::remove(local, ec);  // corrupt or stale: fetch again
  {
    std::lock_guard<std::mutex> lock(mu_);
    ShardState& s = shards_[source];
    if (reader) {
      s.tier = Tier::kLocal;
      s.local = reader;
      ++stats_.disk_hits;
    } else {
      if (existed) ++stats_.disk_refetches;
      schedule_copy_locked(source, info);
    }
  }
  changed_.notify_all();
}

void ShardCache::schedule_copy_locked(const std::string& source, const ShardFileInfo& info) {
  shards_[source].tier = Tier::kCopying;
  if (stopping_) return;
  queue_.push_back(CopyJob{source, local_file(info), info});
  if (workers_.size() < std::max<size_t>(1, options_.copy_threads)) workers_.emplace_back([this] { copy_worker(); });
  changed_.notify_all();
}

void ShardCache::copy_worker() {
  std::unique_lock<std::mutex> lock(mu_);
  for (;;) {
    changed_.wait(lock, [&] { return stopping_ || !queue_.empty(); });
    if (stopping_) return;
    const CopyJob job = queue_.front();
    queue_.pop_front();
    ++copies_running_;
    lock.unlock();
    run_copy(job);
    lock.lock();
    --copies_running_;
    changed_.notify_all();
  }
}

void ShardCache::run_copy(const CopyJob& job) {
  std::string tmp;
  std::shared_ptr<const ShardReader> reader;
  try {
    tmp = copy_to_unique_temp(job.source, job.local, options_.copy_chunk_bytes, stopping_, options_.on_copy_progress);
    if (tmp.empty()) return;  // stopping: the tier no longer matters
    if (sha256_file_hex(tmp) != job.info.sha256) {
      std::error_code ec;
      fs::remove(tmp, ec);
      return copy_failed(job, "SHA-256 of the copy differs from metadata.json");
    }
    if (stopping_) {
      std::error_code ec;
      fs::remove(tmp, ec);
      return;
    }
    commit_temp(tmp, job.local);
    tmp.clear();
    reader = std::make_shared<const ShardReader>(job.local);
  } catch (const std::exception& e) {
    std::error_code ec;
    if (!tmp.empty()) fs::remove(tmp, ec);
    return copy_failed(job, e.what());
  }
  {
    std::lock_guard<std::mutex> lock(mu_);
    ShardState& s = shards_[job.source];
    s.tier = Tier::kLocal;
    s.local = reader;
    ++stats_.disk_fetches;
  }
  changed_.notify_all();
}

void ShardCache::copy_failed(const CopyJob& job, const std::string& why) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    ShardState& s = shards_[job.source];
    ++stats_.bad_copies;
    stats_.last_copy_error = job.local + ": " + why;
    if (++s.bad_copies >= options_.copy_attempts) {
      s.tier = Tier::kSourceOnly;
      ++stats_.source_mismatches;
    } else {
      s.tier = Tier::kSource;  // the next read of this shard queues another copy
    }
  }
  changed_.notify_all();
}

void ShardCache::wait_for_copies() {
  std::unique_lock<std::mutex> lock(mu_);
  changed_.wait(lock, [&] {
    if (!queue_.empty() || copies_running_ > 0) return false;
    for (const auto& [source, s] : shards_) {
      if (s.tier == Tier::kChecking) return false;
    }
    return true;
  });
}

std::shared_ptr<const Block> ShardCache::block(const std::string& key,
                                               const std::function<std::shared_ptr<const Block>()>& load,
                                               bool wait) {
  std::unique_lock<std::mutex> lock(mu_);
  auto it = blocks_.find(key);
  if (it != blocks_.end()) {
    ++stats_.ram_hits;
    lru_.splice(lru_.begin(), lru_, it->second.lru);
    if (!wait) return nullptr;
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
