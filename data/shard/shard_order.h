#pragma once
// The epoch order for shards, and its split into ranks.
//
// A uniform permutation of all samples would turn every read into a random
// access on the NAS. Instead (the WebDataset / tf.data recipe): permute the
// shards, stream each one's records in file order, and pass them through a
// shuffle buffer of `buffer` samples — once the buffer is full, each incoming
// record swaps with a random slot, whose previous occupant is emitted; at the
// end the buffer drains in random order. A sample can move about `buffer`
// positions; reads stay within a few consecutive shards at a time.
//
// The order is a pure function of (shard sizes, buffer, seed, epoch), computed
// on one thread: the same on every rank, for any number of loader threads. The
// rank split is DistributedSampler's (batch-blocked: global micro-batch m goes
// to rank m % world), applied to this order, so resume (batch_in_epoch) and a
// changed world size behave exactly as with the DICOM sampler.
#include <cstddef>
#include <cstdint>
#include <vector>

#include "data/sampler.h"

namespace medtrain::data::shard {

// Global sample indices (shard 0's records first, then shard 1's, ...) in the
// order described above; identity when buffer == 0 and shuffling is off.
std::vector<size_t> shard_epoch_order(const std::vector<size_t>& shard_sizes, size_t buffer, uint64_t seed,
                                      int64_t epoch);

class ShardSampler {
 public:
  // options.shuffle == false: shards and records in file order.
  ShardSampler(std::vector<size_t> shard_sizes, size_t buffer, SamplerOptions options);
  std::vector<size_t> epoch_indices(int64_t epoch) const;  // this rank's, batch after batch
  size_t per_rank() const { return blocks_.per_rank(); }

 private:
  std::vector<size_t> shard_sizes_;
  size_t buffer_;
  SamplerOptions options_;
  DistributedSampler blocks_;  // positions in the shared order, shuffle off
};

}  // namespace medtrain::data::shard
