#include "data/shard/shard_order.h"

#include <numeric>
#include <random>

#include "data/rng.h"

namespace medtrain::data::shard {
namespace {

SamplerOptions positions_only(SamplerOptions o) {
  o.shuffle = false;
  return o;
}

}  // namespace

std::vector<size_t> shard_epoch_order(const std::vector<size_t>& shard_sizes, size_t buffer, uint64_t seed,
                                      int64_t epoch) {
  std::vector<size_t> first(shard_sizes.size());
  size_t total = 0;
  for (size_t s = 0; s < shard_sizes.size(); ++s) {
    first[s] = total;
    total += shard_sizes[s];
  }
  std::mt19937_64 rng(mix_seed(seed, static_cast<uint64_t>(epoch)));
  std::vector<size_t> shards(shard_sizes.size());
  std::iota(shards.begin(), shards.end(), size_t{0});
  for (size_t i = shards.size(); i > 1; --i) std::swap(shards[i - 1], shards[uniform_below(rng, i)]);

  std::vector<size_t> order;
  order.reserve(total);
  std::vector<size_t> pool;
  pool.reserve(buffer);
  for (const size_t s : shards) {
    for (size_t r = 0; r < shard_sizes[s]; ++r) {
      const size_t incoming = first[s] + r;
      if (pool.size() < buffer) {
        pool.push_back(incoming);
        continue;
      }
      if (buffer == 0) {
        order.push_back(incoming);
        continue;
      }
      size_t& slot = pool[uniform_below(rng, buffer)];
      order.push_back(slot);
      slot = incoming;
    }
  }
  // Drain: a Fisher-Yates shuffle of what is left.
  for (size_t i = pool.size(); i > 1; --i) std::swap(pool[i - 1], pool[uniform_below(rng, i)]);
  order.insert(order.end(), pool.begin(), pool.end());
  return order;
}

ShardSampler::ShardSampler(std::vector<size_t> shard_sizes, size_t buffer, SamplerOptions options)
    : shard_sizes_(std::move(shard_sizes)),
      buffer_(buffer),
      options_(options),
      blocks_(std::accumulate(shard_sizes_.begin(), shard_sizes_.end(), size_t{0}), positions_only(options)) {}

std::vector<size_t> ShardSampler::epoch_indices(int64_t epoch) const {
  std::vector<size_t> order;
  if (options_.shuffle) {
    order = shard_epoch_order(shard_sizes_, buffer_, options_.seed, epoch);
  } else {
    order.resize(std::accumulate(shard_sizes_.begin(), shard_sizes_.end(), size_t{0}));
    std::iota(order.begin(), order.end(), size_t{0});
  }
  std::vector<size_t> mine = blocks_.epoch_indices(epoch);  // positions in `order`
  for (size_t& p : mine) p = order[p];
  return mine;
}

}  // namespace medtrain::data::shard
