#pragma once
// Which sample indices a rank visits in an epoch. Every rank gets the same
// number of indices (the shuffled list is padded by wrapping around, as
// torch.utils.data.DistributedSampler does), the order is a pure function of
// (seed, epoch), and a position inside the epoch is just an offset, so resuming
// is exact.
#include <cstdint>
#include <vector>

namespace medtrain::data {

struct SamplerOptions {
  uint64_t seed = 0;
  bool shuffle = true;
  int rank = 0;
  int world_size = 1;
};

class DistributedSampler {
 public:
  DistributedSampler(size_t dataset_size, SamplerOptions options);
  // This rank's indices for `epoch`: ceil(dataset_size / world_size) of them.
  std::vector<size_t> epoch_indices(int64_t epoch) const;
  size_t per_rank() const;

 private:
  size_t dataset_size_;
  SamplerOptions options_;
};

}  // namespace medtrain::data
