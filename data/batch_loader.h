#pragma once
// Decodes samples on worker threads ahead of the trainer and hands out batches
// in a fixed order. Batch k always holds indices[k*B, (k+1)*B) whatever the
// number of threads; the queue of ready batches is bounded (prefetch_batches).
// A read-ahead thread tells the dataset (Dataset::prefetch) which samples come
// next, readahead_batches past the workers' window, so that a shard's block is
// on its way from the NAS before a worker needs it.
#include <torch/types.h>

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "data/dataset.h"
#include "data/io/read_retry.h"

namespace medtrain::data {

enum class OnError { kFail, kSkip };

// Note [Storage faults in the loader]: how often samples were read again
// after a transient storage error (io::TransientReadError), and how many were
// skipped (on_error: skip) because they still failed when the retries ran
// out. Cumulative; the trainer passes one for the whole run (all epochs).
struct ReadCounters {
  std::atomic<uint64_t> retries{0};
  std::atomic<uint64_t> skipped{0};
};

struct LoaderOptions {
  size_t batch_size = 32;
  size_t workers = 2;
  size_t prefetch_batches = 4;
  size_t readahead_batches = 0;  // 0: no read-ahead thread
  bool drop_last = false;
  OnError on_error = OnError::kFail;
  uint64_t seed = 0;   // per-sample augmentation seed = mix(seed, epoch, index)
  int64_t epoch = 0;
  // Assemble batches in page-locked memory so the copy to the GPU can run
  // asynchronously (needs a CUDA build with a device; set only for CUDA runs).
  bool pin_memory = false;
  // A sample whose read fails transiently is read again (Note [Transient reads]
  // in data/io/read_retry.h), up to retry.retries times with doubling waits.
  io::RetryPolicy retry;
  // > 0: a sample read (one attempt of Dataset::get: open, read and decode of
  // its file or shard record) still running after this many seconds makes
  // next() throw DataError naming it, instead of waiting for ever on a hung
  // NAS. Watched by next() while it waits, so it needs workers >= 1.
  double read_timeout_s = 0;
  std::shared_ptr<ReadCounters> read_counters;  // null: the loader keeps its own
};

struct Batch {
  // float32 [B, C, H, W]; or, when `preprocess` is defined, the stored values
  // of raw image samples, int16/uint16 [B, 1, H, W] (data/dicom/raw_sample.h)
  torch::Tensor images;
  torch::Tensor preprocess;  // raw batches: float64 [B, kRawParams], CPU; undefined otherwise
  torch::Tensor targets;  // [B, ...]: the samples' targets stacked (int64 [B] for classes)
  size_t skipped = 0;     // samples dropped from this batch under on_error: skip
};

class BatchLoader {
 public:
  // Serves batches of `indices` starting at batch number `first_batch` (resume).
  BatchLoader(std::shared_ptr<const Dataset> dataset, std::vector<size_t> indices,
              LoaderOptions options, size_t first_batch = 0);
  // Stops and joins the workers; after a read timeout it leaves them behind
  // instead (a read() blocked in the kernel cannot be cancelled), and they end
  // when their read returns or the process exits.
  ~BatchLoader();
  BatchLoader(const BatchLoader&) = delete;
  BatchLoader& operator=(const BatchLoader&) = delete;

  // Next batch in order, or nullopt at the end of the epoch. Blocks while the
  // batch is being decoded. Rethrows a worker's DataError under on_error: fail;
  // throws DataError when a read outlives options.read_timeout_s.
  std::optional<Batch> next();
  size_t num_batches() const;
  size_t skipped_total() const;
  const ReadCounters& read_counters() const;

 private:
  struct Impl;
  std::shared_ptr<Impl> impl_;  // shared with the worker threads (see the destructor)
};

// Seed for one sample's augmentation: a pure function of its inputs.
uint64_t sample_seed(uint64_t seed, int64_t epoch, size_t index);

}  // namespace medtrain::data
