#include "data/sampler.h"

#include <algorithm>

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

void DistributedSampler::bucket(std::vector<size_t>& order, int64_t epoch) const {
  const size_t b = static_cast<size_t>(options_.batch_size);
  const size_t window = options_.bucket_batches * b;
  const auto longer = [&](size_t x, size_t y) { return options_.lengths[x] > options_.lengths[y]; };
  // Only whole micro-batches are sorted: the tail past the last one, left out,
  // stays a random draw (sorted, it would always be the shortest texts).
  const size_t batches = order.size() / b;
  for (size_t start = 0; start < batches * b; start += window) {
    const auto first = order.begin() + static_cast<std::ptrdiff_t>(start);
    const auto last = order.begin() + static_cast<std::ptrdiff_t>(std::min(batches * b, start + window));
    std::stable_sort(first, last, longer);
  }
  // Shuffle whole micro-batches; the tail stays last.
  std::vector<size_t> perm(batches);
  for (size_t i = 0; i < batches; ++i) perm[i] = i;
  std::mt19937_64 rng(mix_seed(mix_seed(options_.seed, static_cast<uint64_t>(epoch)), 0x62756b74));  // "bukt"
  for (size_t i = batches; i > 1; --i) std::swap(perm[i - 1], perm[uniform_below(rng, i)]);
  std::vector<size_t> out;
  out.reserve(order.size());
  for (size_t k : perm) out.insert(out.end(), order.begin() + static_cast<std::ptrdiff_t>(k * b),
                                   order.begin() + static_cast<std::ptrdiff_t>((k + 1) * b));
  out.insert(out.end(), order.begin() + static_cast<std::ptrdiff_t>(batches * b), order.end());
  order = std::move(out);
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
  if (options_.bucket_batches > 0 && !options_.lengths.empty()) bucket(order, epoch);
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
