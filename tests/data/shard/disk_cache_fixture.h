#pragma once
// A packed synthetic set and helpers to open it through a ShardCache with a
// disk tier, shared by the cache tests.
#include <gtest/gtest.h>

#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "data/shard/shard_cache.h"
#include "data/shard/shard_dataset.h"
#include "tests/data/shard/shard_test_util.h"

namespace medtrain::data::shard::testing {

class DiskCacheTest : public ::testing::Test {
 protected:
  struct Run {
    std::shared_ptr<ShardCache> cache;
    std::shared_ptr<ShardDataset> ds;
  };
  void SetUp() override {
    auto o = pack_options(make_dicom_set(dir_), dir_.str("shards"));
    pack_dataset(o);
    meta_ = read_metadata(dir_.str("shards"));
  }
  CacheOptions cache_options() const { return CacheOptions{0, 1 << 20, dir_.str("cache"), meta_.manifest_sha256}; }
  // A fresh dataset and cache over the same cache dir: a new run (or rank).
  Run run(const CacheOptions& cache) const {
    ShardDatasetOptions o;
    o.dir = dir_.str("shards");
    o.split = "train";
    o.preprocess.image_size = 32;
    o.cache = std::make_shared<ShardCache>(cache);
    return {o.cache, open_shard_dataset(o)};
  }
  Run run() const { return run(cache_options()); }
  // The same samples read straight from the pack folder (no disk tier).
  std::vector<torch::Tensor> reference() const { return read_all(*run(CacheOptions{}).ds); }
  static std::vector<torch::Tensor> read_all(const ShardDataset& ds) {
    std::vector<torch::Tensor> out;
    for (size_t i = 0; i < ds.size(); ++i) out.push_back(ds.get(i, 0).image);
    return out;
  }
  static void expect_equal(const std::vector<torch::Tensor>& a, const std::vector<torch::Tensor>& b) {
    ASSERT_EQ(a.size(), b.size());
    for (size_t i = 0; i < a.size(); ++i) EXPECT_TRUE(torch::equal(a[i], b[i])) << "sample " << i;
  }
  std::vector<ShardFileInfo> train_shards() const {
    std::vector<ShardFileInfo> out;
    for (const auto& s : meta_.shards) {
      if (s.split == "train") out.push_back(s);
    }
    return out;
  }
  std::filesystem::path cached(const std::string& file) const {
    return std::filesystem::path(dir_.str("cache")) / meta_.manifest_sha256.substr(0, 16) / file;
  }
  std::filesystem::path source(const std::string& file) const {
    return std::filesystem::path(dir_.str("shards")) / file;
  }
  // Files of the cache folder whose name holds ".tmp" (copies not finished).
  std::vector<std::string> temp_files() const {
    std::vector<std::string> out;
    const auto folder = cached("x").parent_path();
    if (!std::filesystem::exists(folder)) return out;
    for (const auto& e : std::filesystem::directory_iterator(folder)) {
      const std::string name = e.path().filename().string();
      if (name.find(".tmp") != std::string::npos) out.push_back(name);
    }
    return out;
  }
  medtrain::testing::TempDir dir_{"medtrain_cache"};
  ShardMetadata meta_;
};

}  // namespace medtrain::data::shard::testing
