#pragma once
// Which sample indices a rank visits in an epoch. The epoch's order is a
// seeded permutation, a pure function of (seed, epoch). It is cut into global
// micro-batches of batch_size samples; micro-batch m goes to rank m % world,
// so consecutive ranks hold consecutive blocks of the shared order. That makes
// N ranks with batch B (one step = N blocks) see exactly the blocks that one
// process with batch B and N-fold gradient accumulation sees, and a resumed
// run may change the number of ranks as long as the global batch stays. The
// tail shorter than one global micro-batch (< world * batch_size samples) is
// left out, so every rank gets the same number of full batches.
//
// Length buckets (text): with `lengths`, windows of bucket_batches global
// micro-batches of the shuffled order are sorted by length before the cut, and
// the micro-batches of the epoch are then shuffled, so each batch holds texts
// of similar length (little padding) while the order stays random. The
// buckets are made before the rank split, so the equivalence above still holds.
#include <cstddef>
#include <cstdint>
#include <vector>

namespace medtrain::data {

struct SamplerOptions {
  uint64_t seed = 0;
  bool shuffle = true;
  int rank = 0;
  int world_size = 1;
  int64_t batch_size = 1;
  std::vector<int64_t> lengths;  // per sample; empty = no length buckets
  size_t bucket_batches = 0;     // micro-batches per sorted window; 0 = no length buckets
};

class DistributedSampler {
 public:
  DistributedSampler(size_t dataset_size, SamplerOptions options);
  // This rank's indices for `epoch`: per_rank() of them, batch after batch.
  std::vector<size_t> epoch_indices(int64_t epoch) const;
  // Full batches per rank times batch_size.
  size_t per_rank() const;

 private:
  void bucket(std::vector<size_t>& order, int64_t epoch) const;
  size_t dataset_size_;
  SamplerOptions options_;
};

}  // namespace medtrain::data
