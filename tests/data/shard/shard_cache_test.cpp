// The cache tier: the disk copy is made once (in the background:
// shard_cache_background_test.cpp), used (and re-verified) by later runs,
// replaced when corrupt; the RAM LRU loads each block once however many
// threads ask, and evicts beyond its capacity.
#include "data/shard/shard_cache.h"

#include <gtest/gtest.h>

#include <atomic>
#include <filesystem>
#include <future>
#include <thread>

#include "data/data_error.h"
#include "data/shard/shard_dataset.h"
#include "data/shard/shard_reader.h"
#include "tests/data/shard/disk_cache_fixture.h"
#include "tests/data/shard/shard_test_util.h"

namespace medtrain::data::shard {
namespace {

namespace fs = std::filesystem;
using medtrain::testing::TempDir;
using namespace medtrain::data::shard::testing;

TEST_F(DiskCacheTest, FirstRunFetchesLaterRunsHitAndCorruptCopiesAreRefetched) {
  const size_t shards = train_shards().size();
  auto first = run();
  const auto expected = read_all(*first.ds);
  expect_equal(expected, reference());
  first.cache->wait_for_copies();
  EXPECT_EQ(first.cache->stats().disk_fetches, shards);
  EXPECT_EQ(first.cache->stats().disk_hits, 0u);
  EXPECT_TRUE(fs::exists(cached("train-00000.shard")));
  EXPECT_EQ(temp_files(), std::vector<std::string>{});

  // Second run: reads the local copies. Corrupting the source's record bytes
  // proves it (a read from the source would fail its checksum).
  auto src = read_bytes(source("train-00000.shard"));
  const auto pristine = src;
  for (size_t i = 100; i < src.size() / 2; ++i) src[i] ^= 0x5A;
  write_bytes(source("train-00000.shard"), src);
  auto second = run();
  expect_equal(expected, read_all(*second.ds));
  EXPECT_EQ(second.cache->stats().disk_hits, shards);
  EXPECT_EQ(second.cache->stats().disk_fetches, 0u);
  EXPECT_EQ(second.cache->stats().blocks_from_source, 0u);
  write_bytes(source("train-00000.shard"), pristine);

  // A corrupted cached copy is detected (SHA-256) and fetched again.
  auto local = read_bytes(cached("train-00001.shard"));
  local[local.size() / 2] ^= 1;
  write_bytes(cached("train-00001.shard"), local);
  auto third = run();
  expect_equal(expected, read_all(*third.ds));
  third.cache->wait_for_copies();
  EXPECT_EQ(third.cache->stats().disk_refetches, 1u);
  EXPECT_EQ(third.cache->stats().disk_fetches, 1u);
  EXPECT_EQ(third.cache->stats().disk_hits, shards - 1);
  EXPECT_TRUE(read_bytes(cached("train-00001.shard")) == read_bytes(source("train-00001.shard")));
}

// Ranks on one node share a cache folder and fetch the same shards at the same
// time: each copy goes to its own temp name, so no rank writes into a copy
// another has already verified and renamed into place.
TEST_F(DiskCacheTest, RanksSharingTheCacheFolderFetchConcurrently) {
  constexpr int kRanks = 4;
  std::vector<std::vector<torch::Tensor>> images(kRanks);
  std::vector<std::string> errors(kRanks);
  std::vector<std::thread> ranks;
  for (int r = 0; r < kRanks; ++r) {
    ranks.emplace_back([&, r] {
      try {
        auto rank = run();
        images[r] = read_all(*rank.ds);
        rank.cache->wait_for_copies();
        images[r] = read_all(*rank.ds);  // again, now (partly) from the local copies
      } catch (const std::exception& e) {
        errors[r] = e.what();
      }
    });
  }
  for (auto& t : ranks) t.join();
  for (int r = 0; r < kRanks; ++r) ASSERT_EQ(errors[r], "") << "rank " << r;
  const auto expected = reference();
  for (int r = 0; r < kRanks; ++r) expect_equal(expected, images[r]);
  for (const auto& s : train_shards()) {
    EXPECT_TRUE(read_bytes(cached(s.file)) == read_bytes(source(s.file))) << s.file;
  }
  EXPECT_EQ(temp_files(), std::vector<std::string>{});
}

std::shared_ptr<const Block> block_of(size_t bytes) {
  auto b = std::make_shared<Block>();
  b->bytes.resize(bytes);
  return b;
}

TEST(RamCache, LoadsEachBlockOnceAcrossThreads) {
  ShardCache cache(CacheOptions{1 << 20, 0, "", ""});
  std::atomic<int> loads{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 8; ++t) {
    threads.emplace_back([&] {
      for (int k = 0; k < 50; ++k) {
        cache.block("a", [&] {
          ++loads;
          std::this_thread::sleep_for(std::chrono::milliseconds(2));
          return block_of(100);
        });
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(loads.load(), 1);
  EXPECT_EQ(cache.stats().ram_misses, 1u);
  EXPECT_EQ(cache.stats().ram_hits, 8u * 50u - 1u);
}

TEST(RamCache, EvictsLeastRecentlyUsedBeyondCapacity) {
  ShardCache cache(CacheOptions{250, 0, "", ""});  // room for two 100-byte blocks
  int loads = 0;
  auto get = [&](const std::string& key) { cache.block(key, [&] { ++loads; return block_of(100); }); };
  get("a");
  get("b");
  get("a");  // a is now the most recent
  get("c");  // evicts b
  EXPECT_EQ(loads, 3);
  get("a");
  EXPECT_EQ(loads, 3);
  get("b");
  EXPECT_EQ(loads, 4);
}

TEST(RamCache, AFailedLoadIsRetried) {
  ShardCache cache(CacheOptions{1000, 0, "", ""});
  EXPECT_THROW(cache.block("a", []() -> std::shared_ptr<const Block> { throw DataError("nas down"); }), DataError);
  int loads = 0;
  cache.block("a", [&] { ++loads; return block_of(10); });
  EXPECT_EQ(loads, 1);
}

// ShardDataset::prefetch reads the sample's block into the cache, so that the
// get() after it is a hit; an index past the end is ignored.
TEST_F(DiskCacheTest, PrefetchPutsTheBlockInTheCacheBeforeGet) {
  Run r = run(CacheOptions{});
  const size_t last = r.ds->size() - 1;
  r.ds->prefetch(last);
  r.ds->prefetch(last + 100);
  const CacheStats before = r.cache->stats();
  EXPECT_EQ(before.ram_misses, 1u);
  EXPECT_EQ(before.blocks_from_source, 1u);
  const auto sample = r.ds->get(last, 0);
  const CacheStats after = r.cache->stats();
  EXPECT_EQ(after.ram_misses, 1u);
  EXPECT_EQ(after.ram_hits, before.ram_hits + 1);
  EXPECT_TRUE(torch::equal(sample.image, reference()[last]));
}

// The read-ahead's request: a block another thread is loading (or has loaded)
// returns at once, without waiting and without a second load; an absent one
// is loaded by the caller.
TEST(RamCache, ANonWaitingRequestNeverWaitsOrLoadsTwice) {
  ShardCache cache(CacheOptions{1000, 0, "", ""});
  std::promise<void> release;
  std::shared_future<void> gate = release.get_future().share();
  std::atomic<int> loads{0};
  std::thread loader([&] {
    cache.block("a", [&] {
      ++loads;
      gate.wait();  // held until the non-waiting request has returned
      return block_of(10);
    });
  });
  while (loads.load() == 0) std::this_thread::yield();
  EXPECT_EQ(cache.block("a", [&] { ++loads; return block_of(10); }, /*wait=*/false), nullptr);
  release.set_value();
  loader.join();
  EXPECT_EQ(loads.load(), 1);
  EXPECT_EQ(cache.block("b", [&] { ++loads; return block_of(10); }, /*wait=*/false)->bytes.size(), 10u);
  EXPECT_EQ(loads.load(), 2);
  EXPECT_EQ(cache.block("b", [&] { ++loads; return block_of(10); })->bytes.size(), 10u);  // cached
  EXPECT_EQ(loads.load(), 2);
}

}  // namespace
}  // namespace medtrain::data::shard
