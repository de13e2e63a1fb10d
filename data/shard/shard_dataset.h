#pragma once
// A Dataset over one split of a pack (packer.h). get(i, seed) reads record i
// (through the cache tier, shard_cache.h), checks its CRC32C, rebuilds the
// modality values and then runs exactly DicomDataset's preprocess_hu with the
// same options and augmentation draw, so a model trained on shards sees the
// same tensors as one trained on the files (bit for bit when the pack kept the
// stored size, --image-size 0).
//
// Sample i is record i of the split in shard order (shard 0's records first):
// the numbering ShardSampler (shard_order.h) expects. A record that fails its
// checksum or decoding throws DataError naming the shard file, the record and
// its offset; the loader skips or fails per data.on_error, and bad_records()
// counts them. Thread-safe.
#include <atomic>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "data/dataset.h"
#include "data/dicom/dicom_dataset.h"
#include "data/shard/shard_cache.h"
#include "data/shard/shard_metadata.h"
#include "data/shard/shard_reader.h"

namespace medtrain::data::shard {

struct ShardDatasetOptions {
  std::string dir;              // the pack folder (metadata.json + shards)
  std::string split;            // records of this split
  DicomDatasetOptions preprocess;  // image_size, window, mean/std, augmentation (manifest fields unused)
  uint64_t block_bytes = 4ull << 20;  // records per pread: up to this many bytes
  std::shared_ptr<ShardCache> cache;  // null = a private cache without disk tier
  // Storage benchmarks (iobench --simulate --records-only): a sample is the
  // record's verified, decompressed pixel bytes as uint8 [1, n], not decoded
  // into an image, so what is measured is the storage path MLPerf Storage
  // measures (read + checksum), not the CPU's preprocessing.
  bool records_only = false;
};

class ShardDataset : public Dataset {
 public:
  explicit ShardDataset(ShardDatasetOptions options);  // use open_shard_dataset
  size_t size() const override { return total_; }
  Sample get(size_t index, uint64_t rng_seed) const override;
  std::string describe(size_t index) const override;  // "<shard>: record <r> at offset <o>"
  int64_t label(size_t index) const override;
  // Reads the block holding record `index` into the block cache (the loader's
  // read-ahead): workers then find it there instead of waiting on the NAS.
  void prefetch(size_t index) const override;

  // Records per shard of the split, in the numbering above (for ShardSampler).
  std::vector<size_t> shard_sizes() const;
  const ShardMetadata& metadata() const { return meta_; }
  uint64_t bad_records() const { return bad_records_.load(); }
  CacheStats cache_stats() const { return cache_->stats(); }

 private:
  struct Shard;
  std::pair<size_t, size_t> locate(size_t index) const;  // (shard, record)
  // Through the cache; wait = false only starts the read (null when cached or loading).
  std::shared_ptr<const Block> block_of(size_t shard, size_t record, bool wait = true) const;

  ShardDatasetOptions options_;
  ShardMetadata meta_;
  std::vector<std::unique_ptr<Shard>> shards_;
  std::vector<size_t> first_;  // global index of each shard's first record
  size_t total_ = 0;
  std::shared_ptr<ShardCache> cache_;
  mutable std::atomic<uint64_t> bad_records_{0};
};

// Reads metadata.json and every shard index of `split`. Throws DataError naming
// the folder or file: no metadata, an interrupted pack ("complete": false), a
// shard missing or whose record count differs from the metadata, a bad index.
std::shared_ptr<ShardDataset> open_shard_dataset(const ShardDatasetOptions& options);

}  // namespace medtrain::data::shard
