// The disk tier copies in the background: a shard without a local copy is read
// from the source at once, and from the local copy once that copy has been
// verified; a bad copy is never used; a cache destroyed mid-copy leaves no
// temp file. Copies are gated by the progress hook, never by sleeping.
#include <gtest/gtest.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <future>
#include <thread>

#include "data/shard/shard_cache.h"
#include "tests/data/shard/disk_cache_fixture.h"

namespace medtrain::data::shard {
namespace {

namespace fs = std::filesystem;
using namespace medtrain::data::shard::testing;

// Waits for `open` (or for the cache to stop); a poll, not a timing guess.
void wait_until(const std::atomic<bool>& open, const CopyProgress& p) {
  while (!open.load() && !p.stopping.load()) std::this_thread::sleep_for(std::chrono::milliseconds(1));
}

// Every block is evicted as soon as it is loaded, so each read shows which tier served it.
CacheOptions no_ram(CacheOptions o) {
  o.working_set_bytes = 1;
  return o;
}

TEST_F(DiskCacheTest, ReadsAreServedFromTheSourceWhileTheCopyRunsThenFromTheLocalCopy) {
  std::atomic<bool> gate{false};
  std::atomic<int> chunks{0};
  std::promise<void> started;
  auto o = no_ram(cache_options());
  o.copy_chunk_bytes = 1024;  // several chunks per shard
  o.on_copy_progress = [&](const CopyProgress& p) {
    if (chunks++ == 0) started.set_value();
    EXPECT_TRUE(fs::exists(p.temp)) << p.temp;
    wait_until(gate, p);
  };
  auto r = run(o);
  const auto expected = reference();
  // Every copy is held at its first chunk: all reads below come from the source.
  expect_equal(expected, read_all(*r.ds));
  auto during = r.cache->stats();
  EXPECT_EQ(during.disk_fetches, 0u);
  EXPECT_EQ(during.blocks_from_local, 0u);
  EXPECT_EQ(during.blocks_from_source, during.ram_misses);
  EXPECT_GE(during.blocks_from_source, train_shards().size());
  for (const auto& s : train_shards()) EXPECT_FALSE(fs::exists(cached(s.file))) << s.file;
  started.get_future().wait();
  EXPECT_FALSE(temp_files().empty());  // the copies are under way

  gate = true;
  r.cache->wait_for_copies();
  const auto after = r.cache->stats();
  EXPECT_EQ(after.disk_fetches, train_shards().size());
  EXPECT_GT(chunks.load(), static_cast<int>(train_shards().size()));
  for (const auto& s : train_shards()) EXPECT_TRUE(read_bytes(cached(s.file)) == read_bytes(source(s.file))) << s.file;
  EXPECT_EQ(temp_files(), std::vector<std::string>{});

  // Later reads come from the local copies; the source is not read again.
  expect_equal(expected, read_all(*r.ds));
  const auto later = r.cache->stats();
  EXPECT_EQ(later.blocks_from_source, after.blocks_from_source);
  EXPECT_EQ(later.blocks_from_local, later.ram_misses - after.ram_misses);
  EXPECT_GE(later.blocks_from_local, train_shards().size());
}

TEST_F(DiskCacheTest, ACorruptCopyIsDiscardedCountedAndRetriedOnALaterRead) {
  const std::string victim = train_shards().at(0).file;
  std::atomic<int> corrupted{0};
  std::atomic<bool> reads_done{false};
  auto o = no_ram(cache_options());
  // The first copy of `victim` is held until the first pass of reads is over
  // (so that no read can queue a second copy before it fails), then gets one
  // bit flipped after its last chunk is written.
  o.on_copy_progress = [&](const CopyProgress& p) {
    if (p.temp.find(victim) == std::string::npos || corrupted > 0) return;
    if (p.copied != fs::file_size(source(victim))) return;
    wait_until(reads_done, p);
    auto bytes = read_bytes(p.temp);
    bytes[bytes.size() / 2] ^= 1;
    write_bytes(p.temp, bytes);
    ++corrupted;
  };
  auto r = run(o);
  const auto expected = reference();
  expect_equal(expected, read_all(*r.ds));
  reads_done = true;
  r.cache->wait_for_copies();
  auto s = r.cache->stats();
  EXPECT_EQ(corrupted.load(), 1);
  EXPECT_EQ(s.bad_copies, 1u);
  EXPECT_NE(s.last_copy_error.find(victim), std::string::npos) << s.last_copy_error;
  EXPECT_NE(s.last_copy_error.find("SHA-256"), std::string::npos) << s.last_copy_error;
  EXPECT_EQ(s.disk_fetches, train_shards().size() - 1);
  EXPECT_FALSE(fs::exists(cached(victim)));  // discarded, never put in place
  EXPECT_EQ(temp_files(), std::vector<std::string>{});

  // The next read of the victim queues a second copy, which is good.
  expect_equal(expected, read_all(*r.ds));
  r.cache->wait_for_copies();
  s = r.cache->stats();
  EXPECT_EQ(s.disk_fetches, train_shards().size());
  EXPECT_TRUE(read_bytes(cached(victim)) == read_bytes(source(victim)));
  EXPECT_EQ(s.source_mismatches, 0u);
}

TEST_F(DiskCacheTest, ACopyThatIsAlwaysBadIsNeverUsed) {
  auto o = no_ram(cache_options());
  o.copy_attempts = 2;
  o.on_copy_progress = [&](const CopyProgress& p) {
    std::ofstream(p.temp, std::ios::binary | std::ios::app) << "x";  // one byte too many: a stale NAS read
  };
  auto r = run(o);
  const auto expected = reference();
  for (int pass = 0; pass < 3; ++pass) {
    expect_equal(expected, read_all(*r.ds));
    r.cache->wait_for_copies();
  }
  const auto s = r.cache->stats();
  const size_t shards = train_shards().size();
  EXPECT_EQ(s.bad_copies, 2 * shards);         // tried copy_attempts times per shard, then not again
  EXPECT_EQ(s.source_mismatches, shards);
  EXPECT_EQ(s.disk_fetches, 0u);
  EXPECT_EQ(s.blocks_from_local, 0u);
  for (const auto& f : train_shards()) EXPECT_FALSE(fs::exists(cached(f.file))) << f.file;
  EXPECT_EQ(temp_files(), std::vector<std::string>{});
}

TEST_F(DiskCacheTest, DestroyingTheCacheMidCopyStopsTheCopiesAndLeavesNoTempFile) {
  std::promise<void> started;
  std::atomic<bool> first{true};
  auto o = cache_options();
  o.copy_chunk_bytes = 1024;
  o.copy_threads = 1;
  o.on_copy_progress = [&](const CopyProgress& p) {
    if (first.exchange(false)) started.set_value();
    const std::atomic<bool> never{false};
    wait_until(never, p);  // holds the copy until the cache is being destroyed
  };
  auto r = run(o);
  const auto expected = reference();
  expect_equal(expected, read_all(*r.ds));  // queues one copy per shard; one runs
  started.get_future().wait();
  EXPECT_EQ(temp_files().size(), 1u);
  r.ds.reset();
  r.cache.reset();  // returns only once the running copy has stopped
  EXPECT_EQ(temp_files(), std::vector<std::string>{});
  for (const auto& s : train_shards()) EXPECT_FALSE(fs::exists(cached(s.file))) << s.file;
}

}  // namespace
}  // namespace medtrain::data::shard
