#pragma once
// The seam between training and data: the trainer sees only this interface, so
// the minimal DICOM dataset can be replaced by the streaming shard pipeline
// without touching the engine.
#include <torch/types.h>

#include <cstdint>
#include <string>

namespace medtrain::data {

// What a sample's target holds; model.task picks it, the manifest supplies it.
enum class TargetKind {
  kClass,       // int64 scalar: class index (manifest column `label`)
  kMultiLabel,  // float32 [L]: 1 for each finding present (column `labels`)
  kMask,        // int64 [H, W] or [D, H, W]: class per pixel (column `mask`)
};

struct Sample {
  torch::Tensor image;   // float32 [C, H, W] or [C, D, H, W], normalized, CPU
  torch::Tensor target;  // see TargetKind
};

class Dataset {
 public:
  virtual ~Dataset() = default;
  virtual size_t size() const = 0;
  // Thread-safe. Deterministic in (index, rng_seed): augmentation draws only
  // from rng_seed, so results do not depend on which thread decodes what.
  // Throws DataError naming the file when the sample cannot be decoded.
  virtual Sample get(size_t index, uint64_t rng_seed) const = 0;
  // Where sample `index` comes from (a path), for error messages and reports.
  virtual std::string describe(size_t index) const = 0;
  // Class index of every sample, without decoding (for metrics and balance);
  // 0 for datasets without class labels.
  virtual int64_t label(size_t index) const = 0;
  // Sample `index` will be asked for soon: a dataset on slow storage may read
  // what it needs now, into its cache, so that get() does not wait for the
  // storage. Called by the loader's read-ahead thread; may block while it
  // reads; must not throw (a failure is get()'s to report). Default: nothing.
  virtual void prefetch(size_t /*index*/) const {}
};

}  // namespace medtrain::data
