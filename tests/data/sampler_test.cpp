// DistributedSampler: properties checked against the definition (a seeded
// permutation cut into global micro-batches, dealt out to ranks in turn, the
// short tail left out), not against numbers copied from its own output.
#include "data/sampler.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdlib>
#include <map>
#include <random>
#include <set>
#include <tuple>

#include "data/data_error.h"

namespace medtrain::data {
namespace {

std::vector<size_t> indices(size_t n, int rank, int world, uint64_t seed, int64_t epoch, bool shuffle = true,
                            int64_t batch = 1) {
  SamplerOptions o;
  o.batch_size = batch;
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
  EXPECT_EQ(indices(10, 1, 3, 7, 5, /*shuffle=*/false), (std::vector<size_t>{1, 4, 7}));  // 9 dropped
  // Batches of 2 over 3 ranks: blocks {0,1} {2,3} {4,5} | {6,7} {8,9} {10,11}; 12, 13 dropped.
  EXPECT_EQ(indices(14, 1, 3, 7, 5, /*shuffle=*/false, 2), (std::vector<size_t>{2, 3, 8, 9}));
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

// Taking one batch from each rank in turn gives back the single-rank order,
// cut after the last full global micro-batch.
TEST(Sampler, RanksInTurnRebuildTheSharedOrder) {
  for (const auto& [n, world, batch] : std::vector<std::tuple<size_t, int, int64_t>>{
           {10, 3, 1}, {7, 4, 1}, {2, 5, 1}, {9, 1, 1}, {50, 3, 4}, {64, 2, 8}, {23, 2, 5}}) {
    const std::vector<size_t> order = indices(n, 0, 1, 42, 1);
    std::vector<std::vector<size_t>> per_rank;
    for (int r = 0; r < world; ++r) per_rank.push_back(indices(n, r, world, 42, 1, true, batch));
    const size_t global = static_cast<size_t>(world) * static_cast<size_t>(batch);
    const size_t per = n / global * static_cast<size_t>(batch);
    std::vector<size_t> rebuilt;
    for (size_t k = 0; k * static_cast<size_t>(batch) < per; ++k) {
      for (int r = 0; r < world; ++r) {
        ASSERT_EQ(per_rank[r].size(), per) << "n=" << n << " world=" << world;
        for (int64_t j = 0; j < batch; ++j) rebuilt.push_back(per_rank[r][k * static_cast<size_t>(batch) + j]);
      }
    }
    const std::vector<size_t> prefix(order.begin(), order.begin() + static_cast<std::ptrdiff_t>(per * world));
    EXPECT_EQ(rebuilt, prefix) << "n=" << n << " world=" << world << " batch=" << batch;
  }
}

// Another world size with the same global micro-batch visits the same samples
// in the same global order: what a resume on another number of ranks relies on.
TEST(Sampler, SameGlobalBatchSameBlocks) {
  const auto one = indices(40, 0, 1, 5, 2, true, 8);
  std::vector<size_t> two;
  const auto r0 = indices(40, 0, 2, 5, 2, true, 4), r1 = indices(40, 1, 2, 5, 2, true, 4);
  for (size_t k = 0; k < r0.size() / 4; ++k) {
    two.insert(two.end(), r0.begin() + 4 * k, r0.begin() + 4 * k + 4);
    two.insert(two.end(), r1.begin() + 4 * k, r1.begin() + 4 * k + 4);
  }
  EXPECT_EQ(one, two);
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

// Length buckets (text): same samples, less padding, and the rank equivalence kept.
namespace medtrain::data {
namespace {

SamplerOptions bucketed(int rank, int world, int64_t batch, const std::vector<int64_t>& lengths) {
  SamplerOptions o{7, true, rank, world, batch};
  o.lengths = lengths;
  o.bucket_batches = 8;
  return o;
}

// Sum over micro-batches of (longest - each): the padding a batch needs.
int64_t padding(const std::vector<size_t>& order, const std::vector<int64_t>& lengths, size_t batch) {
  int64_t pad = 0;
  for (size_t k = 0; k + batch <= order.size(); k += batch) {
    int64_t longest = 0;
    for (size_t i = k; i < k + batch; ++i) longest = std::max(longest, lengths[order[i]]);
    for (size_t i = k; i < k + batch; ++i) pad += longest - lengths[order[i]];
  }
  return pad;
}

std::vector<int64_t> random_lengths(size_t n) {
  std::mt19937_64 rng(3);
  std::vector<int64_t> lengths(n);
  for (auto& l : lengths) l = 5 + static_cast<int64_t>(rng() % 120);
  return lengths;
}

TEST(Sampler, LengthBucketsKeepTheSamplesAndCutPadding) {
  const auto lengths = random_lengths(1000);
  SamplerOptions plain{7, true, 0, 1, 16};
  const auto a = DistributedSampler(lengths.size(), plain).epoch_indices(2);
  const auto b = DistributedSampler(lengths.size(), bucketed(0, 1, 16, lengths)).epoch_indices(2);
  ASSERT_EQ(a.size(), b.size());
  // The same samples: the tail left out (1000 % 16) is the same random draw.
  EXPECT_EQ(std::set<size_t>(a.begin(), a.end()), std::set<size_t>(b.begin(), b.end()));
  EXPECT_LT(padding(b, lengths, 16) * 4, padding(a, lengths, 16));  // far less padding
  // Deterministic in (seed, epoch); another epoch is another order.
  EXPECT_EQ(b, DistributedSampler(lengths.size(), bucketed(0, 1, 16, lengths)).epoch_indices(2));
  EXPECT_NE(b, DistributedSampler(lengths.size(), bucketed(0, 1, 16, lengths)).epoch_indices(3));
  // The batches are not sorted by length across the epoch: the first ten are not all long.
  int64_t first = 0, last = 0;
  for (size_t i = 0; i < 160; ++i) first += lengths[b[i]], last += lengths[b[b.size() - 1 - i]];
  EXPECT_LT(std::abs(first - last), 160 * 60);
}

TEST(Sampler, LengthBucketsKeepRanksEquivalentToAccumulation) {
  const auto lengths = random_lengths(999);
  const auto one = DistributedSampler(lengths.size(), bucketed(0, 1, 4, lengths)).epoch_indices(1);
  std::vector<std::vector<size_t>> ranks;
  for (int r = 0; r < 3; ++r) ranks.push_back(DistributedSampler(lengths.size(), bucketed(r, 3, 4, lengths)).epoch_indices(1));
  // Global micro-batch k*3 + r is rank r's k-th batch, and the one process's (k*3 + r)-th.
  for (size_t k = 0; k < ranks[0].size() / 4; ++k) {
    for (int r = 0; r < 3; ++r) {
      for (size_t i = 0; i < 4; ++i) EXPECT_EQ(ranks[r][k * 4 + i], one[(k * 3 + r) * 4 + i]);
    }
  }
}

}  // namespace
}  // namespace medtrain::data
