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
  torch::Tensor image;   // float32 [C, H, W] or [C, D, H, W], normalized, CPU; or, for
                         // text, int64 token ids [L] (Note [Ragged samples])
  torch::Tensor target;  // see TargetKind; int64 [L] per-token tags for token tagging
  // Raw image samples only (data/dicom/raw_sample.h): image holds stored
  // values, int16/uint16 [1, H, W], and this the float64 numbers that turn
  // them into the normalised image on the device. Undefined otherwise.
  torch::Tensor preprocess;
};

// Note [Ragged samples]: text samples differ in length. A dataset whose samples
// do says so here; the loader then pads each batch to its longest sample
// (dynamic padding), filling inputs with `input_pad` and, when the targets are
// per token too, targets with `target_pad` (ignored by the loss and metrics).
// Speech is the other way round (fixed_input): every input has one shape (a
// 30-s log-mel) and only the target (the transcript's tokens) varies; the
// inputs are stacked as they are, the targets padded to the batch's longest
// with `target_pad`, and length(index) is the target's length.
struct RaggedLayout {
  bool ragged = false;         // samples' first dimension varies (length(index))
  bool ragged_target = false;  // the target has that dimension too
  bool fixed_input = false;    // only the target is ragged (speech)
  int64_t input_pad = 0;
  int64_t target_pad = -100;
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
  // Note [Ragged samples]. Default: every sample has the same shape.
  virtual RaggedLayout ragged() const { return {}; }
  // Ragged datasets: the first dimension of sample `index`, known without
  // building it (the loader sizes each batch before its samples are made).
  virtual int64_t length(size_t /*index*/) const { return 0; }
};

}  // namespace medtrain::data
