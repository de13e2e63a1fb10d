// DistributedSampler: properties checked against the definition (a seeded
// permutation, padded by wrapping, dealt out round-robin), not against numbers
// copied from its own output.
#include "data/sampler.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <map>
#include <set>

#include "data/data_error.h"

namespace medtrain::data {
namespace {

std::vector<size_t> indices(size_t n, int rank, int world, uint64_t seed, int64_t epoch, bool shuffle = true) {
  SamplerOptions o;
  o.seed = seed;
  o.rank = rank;
  o.world_size = world;
  o.shuffle = shuffle;
  return DistributedSampler(n, o).epoch_indices(epoch);
}

TEST(Sampler, SingleRankIsAPermutation) {
  std::vector<size_t> p = indices(100, 0, 1, 7, 0);
  ASSERT_EQ(p.size(), 100u);
  std::vector<size_t> sorted = p;
  std::sort(sorted.begin(), sorted.end());
  for (size_t i = 0; i < 100; ++i) EXPECT_EQ(sorted[i], i);
  EXPECT_NE(p, sorted);  // shuffled
}

TEST(Sampler, ShuffleOffKeepsOrder) {
  const std::vector<size_t> p = indices(10, 1, 3, 7, 5, /*shuffle=*/false);
  EXPECT_EQ(p, (std::vector<size_t>{1, 4, 7, 0}));  // 0..9 padded with 0, 1; every 3rd from 1
}

TEST(Sampler, RanksAreDisjointAndCoverWhenDivisible) {
  const size_t n = 12;
  std::set<size_t> seen;
  for (int r = 0; r < 4; ++r) {
    const std::vector<size_t> mine = indices(n, r, 4, 3, 2);
    EXPECT_EQ(mine.size(), 3u);
    for (size_t i : mine) EXPECT_TRUE(seen.insert(i).second) << "index " << i << " on two ranks";
  }
  EXPECT_EQ(seen.size(), n);
}

// Interleaving the ranks' lists gives back the single-rank order, padded by
// wrapping around to a multiple of the world size.
TEST(Sampler, PaddingWrapsTheSharedOrder) {
  for (const auto& [n, world] : std::vector<std::pair<size_t, int>>{{10, 3}, {7, 4}, {2, 5}, {9, 1}}) {
    const std::vector<size_t> order = indices(n, 0, 1, 42, 1);
    std::vector<std::vector<size_t>> per_rank;
    for (int r = 0; r < world; ++r) per_rank.push_back(indices(n, r, world, 42, 1));
    const size_t per = (n + world - 1) / world;
    for (int r = 0; r < world; ++r) ASSERT_EQ(per_rank[r].size(), per) << "n=" << n << " world=" << world;
    for (size_t k = 0; k < per * world; ++k) {
      EXPECT_EQ(per_rank[k % world][k / world], order[k % n]) << "n=" << n << " world=" << world << " k=" << k;
    }
  }
}

TEST(Sampler, SameSeedEpochSameOrderOtherwiseDifferent) {
  EXPECT_EQ(indices(50, 1, 2, 9, 3), indices(50, 1, 2, 9, 3));
  EXPECT_NE(indices(50, 1, 2, 9, 3), indices(50, 1, 2, 9, 4));
  EXPECT_NE(indices(50, 1, 2, 9, 3), indices(50, 1, 2, 10, 3));
}

// Over many epochs each index lands at each position about equally often.
TEST(Sampler, OrderIsRoughlyUniform) {
  std::map<std::pair<size_t, size_t>, int> counts;  // (position, index) -> count
  const int epochs = 4000;
  for (int e = 0; e < epochs; ++e) {
    const std::vector<size_t> p = indices(4, 0, 1, 1, e);
    for (size_t k = 0; k < 4; ++k) counts[{k, p[k]}]++;
  }
  for (const auto& [key, c] : counts) EXPECT_NEAR(c, epochs / 4, epochs / 10) << key.first << "," << key.second;
  EXPECT_EQ(counts.size(), 16u);
}

TEST(Sampler, EmptyDatasetAndBadRank) {
  EXPECT_TRUE(indices(0, 0, 2, 1, 0).empty());
  SamplerOptions o;
  o.rank = 2;
  o.world_size = 2;
  try {
    DistributedSampler(10, o);
    ADD_FAILURE() << "no error";
  } catch (const DataError& e) {
    EXPECT_NE(std::string(e.what()).find("rank 2 is outside world size 2"), std::string::npos) << e.what();
  }
}

}  // namespace
}  // namespace medtrain::data
