// The cache tier: the disk copy is made once, used (and re-verified) by later
// runs, replaced when corrupt; the RAM LRU loads each block once however many
// threads ask, and evicts beyond its capacity.
#include "data/shard/shard_cache.h"

#include <gtest/gtest.h>

#include <atomic>
#include <filesystem>
#include <thread>

#include "data/data_error.h"
#include "data/shard/shard_dataset.h"
#include "data/shard/shard_reader.h"
#include "tests/data/shard/shard_test_util.h"

namespace medtrain::data::shard {
namespace {

namespace fs = std::filesystem;
using medtrain::testing::TempDir;
using namespace medtrain::data::shard::testing;

class DiskCacheTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto o = pack_options(make_dicom_set(dir_), dir_.str("shards"));
    pack_dataset(o);
    meta_ = read_metadata(dir_.str("shards"));
  }
  // A fresh dataset and cache over the same cache dir: a new run.
  std::shared_ptr<ShardDataset> run() {
    ShardDatasetOptions o;
    o.dir = dir_.str("shards");
    o.split = "train";
    o.preprocess.image_size = 32;
    o.cache = std::make_shared<ShardCache>(CacheOptions{0, 1 << 20, dir_.str("cache"), meta_.manifest_sha256});
    return open_shard_dataset(o);
  }
  std::vector<torch::Tensor> read_all(const ShardDataset& ds) {
    std::vector<torch::Tensor> out;
    for (size_t i = 0; i < ds.size(); ++i) out.push_back(ds.get(i, 0).image);
    return out;
  }
  size_t train_shards() const {
    size_t n = 0;
    for (const auto& s : meta_.shards) n += s.split == "train";
    return n;
  }
  fs::path cached(const std::string& file) const {
    return fs::path(dir_.str("cache")) / meta_.manifest_sha256.substr(0, 16) / file;
  }
  TempDir dir_{"medtrain_cache"};
  ShardMetadata meta_;
};

TEST_F(DiskCacheTest, FirstRunFetchesLaterRunsHitAndCorruptCopiesAreRefetched) {
  auto first = run();
  const auto expected = read_all(*first);
  EXPECT_EQ(first->cache_stats().disk_fetches, train_shards());
  EXPECT_EQ(first->cache_stats().disk_hits, 0u);
  EXPECT_TRUE(fs::exists(cached("train-00000.shard")));
  EXPECT_FALSE(fs::exists(cached("train-00000.shard.tmp")));

  // Second run: reads the local copies. Corrupting the source's record bytes
  // proves it (a read from the source would fail its checksum).
  const fs::path source = fs::path(dir_.str("shards")) / "train-00000.shard";
  auto src = read_bytes(source);
  const auto pristine = src;
  for (size_t i = 100; i < src.size() / 2; ++i) src[i] ^= 0x5A;
  write_bytes(source, src);
  auto second = run();
  const auto again = read_all(*second);
  EXPECT_EQ(second->cache_stats().disk_hits, train_shards());
  EXPECT_EQ(second->cache_stats().disk_fetches, 0u);
  for (size_t i = 0; i < expected.size(); ++i) EXPECT_TRUE(torch::equal(expected[i], again[i])) << i;
  write_bytes(source, pristine);

  // A corrupted cached copy is detected (SHA-256) and fetched again.
  auto local = read_bytes(cached("train-00001.shard"));
  local[local.size() / 2] ^= 1;
  write_bytes(cached("train-00001.shard"), local);
  auto third = run();
  const auto third_images = read_all(*third);
  EXPECT_EQ(third->cache_stats().disk_refetches, 1u);
  EXPECT_EQ(third->cache_stats().disk_fetches, 1u);
  EXPECT_EQ(third->cache_stats().disk_hits, train_shards() - 1);
  EXPECT_TRUE(read_bytes(cached("train-00001.shard")) == read_bytes(fs::path(dir_.str("shards")) / "train-00001.shard"));
  for (size_t i = 0; i < expected.size(); ++i) EXPECT_TRUE(torch::equal(expected[i], third_images[i])) << i;
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
        images[r] = read_all(*run());
      } catch (const std::exception& e) {
        errors[r] = e.what();
      }
    });
  }
  for (auto& t : ranks) t.join();
  for (int r = 0; r < kRanks; ++r) ASSERT_EQ(errors[r], "") << "rank " << r;
  for (int r = 1; r < kRanks; ++r) {
    ASSERT_EQ(images[r].size(), images[0].size());
    for (size_t i = 0; i < images[0].size(); ++i) EXPECT_TRUE(torch::equal(images[0][i], images[r][i])) << r << ":" << i;
  }
  for (const auto& s : meta_.shards) {
    if (s.split != "train") continue;
    EXPECT_TRUE(read_bytes(cached(s.file)) == read_bytes(fs::path(dir_.str("shards")) / s.file)) << s.file;
  }
  for (const auto& e : fs::directory_iterator(cached("train-00000.shard").parent_path())) {
    EXPECT_EQ(e.path().string().find(".tmp"), std::string::npos) << "left behind: " << e.path();
  }
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

}  // namespace
}  // namespace medtrain::data::shard
