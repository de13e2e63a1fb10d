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
  const size_t w = static_cast<size_t>(options_.world_size);
  return (dataset_size_ + w - 1) / w;
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
  const size_t n = per_rank();
  std::vector<size_t> mine;
  mine.reserve(n);
  // The shuffled list padded by wrapping around to n * w entries; rank r takes
  // every w-th entry starting at r.
  for (size_t k = 0; k < n; ++k) mine.push_back(order[(static_cast<size_t>(options_.rank) + k * w) % dataset_size_]);
  return mine;
}

}  // namespace medtrain::data
