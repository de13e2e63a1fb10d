// The shard epoch order: a permutation, deterministic in (seed, epoch), local
// (a sample moves at most about `buffer` places from its streaming position),
// and split into ranks exactly as a brute-force batch-blocked split says.
#include "data/shard/shard_order.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <numeric>

namespace medtrain::data::shard {
namespace {

const std::vector<size_t> kShards = {37, 50, 13, 50, 1, 49};
const size_t kTotal = 200;

TEST(ShardOrder, IsADeterministicPermutationThatChangesPerEpoch) {
  for (const size_t buffer : {size_t{0}, size_t{1}, size_t{16}, size_t{1000}}) {
    auto a = shard_epoch_order(kShards, buffer, 5, 0);
    auto sorted = a;
    std::sort(sorted.begin(), sorted.end());
    std::vector<size_t> all(kTotal);
    std::iota(all.begin(), all.end(), size_t{0});
    EXPECT_EQ(sorted, all) << buffer;
    EXPECT_EQ(a, shard_epoch_order(kShards, buffer, 5, 0));
    EXPECT_NE(a, shard_epoch_order(kShards, buffer, 5, 1));
    EXPECT_NE(a, shard_epoch_order(kShards, buffer, 6, 0));
  }
}

TEST(ShardOrder, WithoutBufferShardsStayContiguousAndInFileOrder) {
  const auto order = shard_epoch_order(kShards, 0, 1, 0);
  std::vector<size_t> first(kShards.size());
  for (size_t s = 1; s < kShards.size(); ++s) first[s] = first[s - 1] + kShards[s - 1];
  size_t pos = 0;
  std::vector<size_t> seen_shards;
  while (pos < order.size()) {
    const size_t s = static_cast<size_t>(std::upper_bound(first.begin(), first.end(), order[pos]) - first.begin()) - 1;
    for (size_t r = 0; r < kShards[s]; ++r) ASSERT_EQ(order[pos + r], first[s] + r);
    pos += kShards[s];
    seen_shards.push_back(s);
  }
  EXPECT_EQ(seen_shards.size(), kShards.size());
}

TEST(ShardOrder, SamplesMoveAtMostTheBufferFromTheirStreamPosition) {
  // Stream position of each sample = its place in the buffer-0 order with the
  // same shard permutation (same rng stream start).
  const size_t buffer = 16;
  const auto stream = shard_epoch_order(kShards, 0, 9, 2);
  const auto order = shard_epoch_order(kShards, buffer, 9, 2);
  std::vector<size_t> stream_pos(kTotal);
  for (size_t i = 0; i < kTotal; ++i) stream_pos[stream[i]] = i;
  for (size_t i = 0; i < kTotal; ++i) {
    // Emitted at i means it arrived no later than i + buffer.
    EXPECT_LE(stream_pos[order[i]], i + buffer) << i;
  }
  EXPECT_NE(order, stream);
}

TEST(ShardSampler, RanksGetInterleavedBatchBlocksOfTheSharedOrder) {
  const int world = 3;
  const int64_t batch = 7;
  const auto order = shard_epoch_order(kShards, 10, 4, 3);
  const size_t global = world * batch;
  const size_t per_rank = kTotal / global * batch;
  std::vector<size_t> union_of_ranks;
  for (int rank = 0; rank < world; ++rank) {
    ShardSampler s(kShards, 10, SamplerOptions{4, true, rank, world, batch});
    EXPECT_EQ(s.per_rank(), per_rank);
    const auto mine = s.epoch_indices(3);
    ASSERT_EQ(mine.size(), per_rank);
    for (size_t k = 0; k < per_rank / batch; ++k) {
      for (int64_t j = 0; j < batch; ++j) {
        // Micro-batch m = k * world + rank holds order[m * batch + j].
        EXPECT_EQ(mine[k * batch + j], order[(k * world + rank) * batch + j]);
      }
    }
    union_of_ranks.insert(union_of_ranks.end(), mine.begin(), mine.end());
  }
  std::sort(union_of_ranks.begin(), union_of_ranks.end());
  EXPECT_EQ(std::adjacent_find(union_of_ranks.begin(), union_of_ranks.end()), union_of_ranks.end());
}

TEST(ShardSampler, NoShuffleIsFileOrder) {
  ShardSampler s(kShards, 10, SamplerOptions{4, false, 0, 1, 8});
  const auto mine = s.epoch_indices(0);
  for (size_t i = 0; i < mine.size(); ++i) EXPECT_EQ(mine[i], i);
}

}  // namespace
}  // namespace medtrain::data::shard
