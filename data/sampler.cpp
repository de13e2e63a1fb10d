#include "data/sampler.h"

#include <random>
#include <string>

#include "data/data_error.h"
#include "data/rng.h"

namespace medtrain::data {

DistributedSampler::DistributedSampler(size_t dataset_size, SamplerOptions options)
    : dataset_size_(dataset_size), options_(options) {
  if (options_.world_size < 1 || options_.rank < 0 || options_.rank >= options_.world_size) {
    throw DataError("sampler: rank " + std::to_string(options_.rank) + " is outside world size " +
                    std::to_string(options_.world_size));
  }
}

size_t DistributedSampler::per_rank() const {
  const size_t global_batch = static_cast<size_t>(options_.world_size) * static_cast<size_t>(options_.batch_size);
  return dataset_size_ / global_batch * static_cast<size_t>(options_.batch_size);
}

std::vector<size_t> DistributedSampler::epoch_indices(int64_t epoch) const {
  std::vector<size_t> order(dataset_size_);
  for (size_t i = 0; i < dataset_size_; ++i) order[i] = i;
  if (options_.shuffle) {
    // Our own Fisher-Yates over mt19937_64 (fixed by the standard): the order is
    // the same on every platform and every rank, for a given (seed, epoch).
    std::mt19937_64 rng(mix_seed(options_.seed, static_cast<uint64_t>(epoch)));
    for (size_t i = dataset_size_; i > 1; --i) std::swap(order[i - 1], order[uniform_below(rng, i)]);
  }
  const size_t w = static_cast<size_t>(options_.world_size);
  const size_t b = static_cast<size_t>(options_.batch_size);
  const size_t r = static_cast<size_t>(options_.rank);
  std::vector<size_t> mine;
  mine.reserve(per_rank());
  for (size_t k = 0; k < per_rank() / b; ++k) {
    const size_t block = (k * w + r) * b;  // global micro-batch k*w + r
    mine.insert(mine.end(), order.begin() + static_cast<std::ptrdiff_t>(block),
                order.begin() + static_cast<std::ptrdiff_t>(block + b));
  }
  return mine;
}

}  // namespace medtrain::data
