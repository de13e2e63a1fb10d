#include "data/shard/shard_dataset.h"

#include <algorithm>
#include <filesystem>

#include "data/data_error.h"
#include "data/dicom/raw_sample.h"
#include "data/io/read_retry.h"
#include "data/io/user_file.h"
#include "data/shard/shard_format.h"

namespace medtrain::data::shard {

namespace fs = std::filesystem;

namespace {

// The task and the data configuration ask for what the pack holds
// (metadata.json "target" and "volumes").
void check_target(const ShardMetadata& meta, const ShardDatasetOptions& o) {
  const TargetKind want = o.preprocess.target;
  const std::string& have = meta.settings.target;
  const std::string where = io::display_path(o.dir + "/" + kMetadataFile);
  if (have == kTextPackTarget) {
    throw DataError(where + ": the pack holds tokenised reports (made with `medtrain pack -c` from a text config); "
                    "set data.dataset: text");
  }
  if (have == kSpeechPackTarget) {
    throw DataError(where + ": the pack holds utterances (made with `medtrain pack -c` from a speech config); "
                    "set data.dataset: speech");
  }
  if (o.preprocess.depth > 0 && !meta.settings.volumes) {
    throw DataError(where + ": the pack holds 2D images; data.depth " + std::to_string(o.preprocess.depth) +
                    " needs volumes, packed with `medtrain pack --volumes`");
  }
  if (o.preprocess.depth == 0 && meta.settings.volumes) {
    throw DataError(where + ": the pack holds volumes (packed with --volumes); set data.depth > 0");
  }
  if (want == TargetKind::kMask && have != "mask") {
    throw DataError(where + ": the pack holds " + have + " labels, no masks; model.task segmentation needs a pack "
                    "made with `medtrain pack --target mask`");
  }
  if (want != TargetKind::kMask && have == "mask") {
    throw DataError(where + ": the pack holds segmentation masks; set model.task: segmentation (or re-pack with "
                    "--target class or multilabel)");
  }
  if (want == TargetKind::kMultiLabel && have != "multilabel") {
    throw DataError(where + ": the pack holds " + have + " labels; model.task multilabel needs a pack made with "
                    "`medtrain pack --target multilabel`");
  }
  if (want == TargetKind::kClass && have != "class") {
    throw DataError(where + ": the pack holds " + have + " labels; set model.task: multilabel (or re-pack with "
                    "--target class)");
  }
}

// A record's mask as int64 class indices, checked against model.num_classes.
torch::Tensor record_mask(const Record& record, int64_t num_classes, const std::string& where) {
  if (record.mask_shape.empty()) {
    throw DataError(where + ": record has no mask (a pack made with --target mask has one in every record)");
  }
  std::vector<int64_t> shape(record.mask_shape.begin(), record.mask_shape.end());
  torch::Tensor mask = torch::empty(shape, torch::kInt64);
  int64_t* out = mask.data_ptr<int64_t>();
  uint8_t largest = 0;
  for (size_t i = 0; i < record.mask.size(); ++i) {
    out[i] = record.mask[i];
    largest = std::max(largest, record.mask[i]);
  }
  if (largest >= num_classes) {
    throw DataError(where + ": mask holds class " + std::to_string(largest) + " but model.num_classes is " +
                    std::to_string(num_classes));
  }
  return mask;
}

// A record's label as the sample target: the class, or the multi-hot vector of
// the bit set a multilabel pack stores.
torch::Tensor record_target(int64_t label, const DicomDatasetOptions& o, const std::string& where) {
  if (o.target != TargetKind::kMultiLabel) {
    check_class_label(label, o.num_classes, where);  // the record's own copy of the label
    return torch::scalar_tensor(label, torch::kInt64);
  }
  const auto bits = static_cast<uint64_t>(label);
  check_label_bits(bits, o.num_classes, where);
  return multi_hot(bits, o.num_classes);
}

// Every record's label in a shard's index against model.num_classes, before
// step 1 (as DicomDataset does for manifest rows): a class past the model's
// outputs would otherwise stop the run, or go unnoticed, when first sampled.
// Masks are checked per record when read (record_mask).
void check_index_labels(const ShardReader& index, const ShardFileInfo& info, const DicomDatasetOptions& o) {
  const auto where = [&](size_t r) {
    return index.where(r) + " (row " + std::to_string(info.first_row + r + 1) + " of split '" + info.split +
           "' in the packed manifest)";
  };
  for (size_t r = 0; r < index.size(); ++r) {
    const int64_t label = index.entry(r).label;
    if (o.target == TargetKind::kClass && o.num_classes > 0 && (label < 0 || label >= o.num_classes)) {
      check_class_label(label, o.num_classes, where(r));
    }
    if (o.target == TargetKind::kMultiLabel && o.num_classes < 64 &&
        (static_cast<uint64_t>(label) >> o.num_classes) != 0) {
      check_label_bits(static_cast<uint64_t>(label), o.num_classes, where(r));
    }
  }
}

}  // namespace

struct ShardDataset::Shard {
  ShardFileInfo info;
  std::string source;
  std::unique_ptr<ShardReader> index;  // the source, opened for its index (labels, offsets)
  std::vector<size_t> block_first;     // first record of each block, ascending
};

ShardDataset::ShardDataset(ShardDatasetOptions options) : options_(std::move(options)) {
  {
    // The same option checks as the DICOM dataset (window_width > 0, std > 0, ...),
    // made by constructing one over no rows.
    DicomDatasetOptions check = options_.preprocess;
    check.manifest = options_.dir;
    DicomDataset(Manifest{}, check);
  }
  meta_ = read_metadata(options_.dir);
  if (!meta_.complete) {
    throw DataError(io::display_path(options_.dir + "/" + kMetadataFile) +
                    ": the pack was interrupted (\"complete\": false); re-run "
                    "`medtrain pack` with the same arguments to finish it");
  }
  check_target(meta_, options_);
  cache_ = options_.cache;
  if (!cache_) cache_ = std::make_shared<ShardCache>(CacheOptions{});
  for (const auto& info : meta_.shards) {
    if (info.split != options_.split) continue;
    auto s = std::make_unique<Shard>();
    s->info = info;
    s->source = (fs::path(options_.dir) / info.file).string();
    s->index = std::make_unique<ShardReader>(s->source);
    if (s->index->size() != info.records) {
      throw DataError(io::display_path(s->source) + ": holds " + std::to_string(s->index->size()) +
                      " records, metadata.json says " + std::to_string(info.records) + "; re-run `medtrain pack`");
    }
    if (!options_.records_only) check_index_labels(*s->index, info, options_.preprocess);
    uint64_t bytes = 0;
    for (size_t r = 0; r < s->index->size(); ++r) {
      const uint64_t len = s->index->entry(r).length;
      if (r == 0 || bytes + len > options_.block_bytes) {
        s->block_first.push_back(r);
        bytes = 0;
      }
      bytes += len;
    }
    first_.push_back(total_);
    total_ += s->index->size();
    shards_.push_back(std::move(s));
  }
}

std::vector<size_t> ShardDataset::shard_sizes() const {
  std::vector<size_t> sizes;
  for (const auto& s : shards_) sizes.push_back(s->index->size());
  return sizes;
}

std::pair<size_t, size_t> ShardDataset::locate(size_t index) const {
  if (index >= total_) {
    throw DataError(io::display_path(options_.dir) + ": sample " + std::to_string(index) + " is outside split '" +
                    options_.split + "' of " + std::to_string(total_));
  }
  const size_t s = static_cast<size_t>(std::upper_bound(first_.begin(), first_.end(), index) - first_.begin()) - 1;
  return {s, index - first_[s]};
}

std::string ShardDataset::describe(size_t index) const {
  const auto [s, r] = locate(index);
  return shards_[s]->index->where(r);
}

int64_t ShardDataset::label(size_t index) const {
  const auto [s, r] = locate(index);
  return shards_[s]->index->entry(r).label;
}

std::shared_ptr<const Block> ShardDataset::block_of(size_t shard_no, size_t record, bool wait) const {
  const Shard& shard = *shards_[shard_no];
  // The source's index serves a local copy too: the cache only hands out
  // copies whose bytes match metadata.json's SHA-256.
  const size_t b = static_cast<size_t>(std::upper_bound(shard.block_first.begin(), shard.block_first.end(), record) -
                                       shard.block_first.begin()) - 1;
  const size_t first = shard.block_first[b];
  const size_t count = (b + 1 < shard.block_first.size() ? shard.block_first[b + 1] : shard.index->size()) - first;
  if (wait) return cache_->read_block(*shard.index, shard.info, b, first, count);
  cache_->warm_block(*shard.index, shard.info, b, first, count);
  return nullptr;
}

void ShardDataset::prefetch(size_t index) const {
  if (index >= total_) return;
  const auto [s, r] = locate(index);
  try {
    block_of(s, r, /*wait=*/false);  // into the block cache; a bad block is get()'s to count and report
  } catch (const DataError&) {
  }
}

namespace {

// The record's modality values through DicomDataset's preprocessing.
torch::Tensor record_image(const Record& record, const DicomDatasetOptions& o, const Augmentation& a,
                           const std::string& where) {
  std::vector<int64_t> shape{static_cast<int64_t>(record.rows), static_cast<int64_t>(record.cols)};
  if (o.depth > 0) shape.insert(shape.begin(), static_cast<int64_t>(record.depth));
  torch::Tensor hu = torch::empty(shape, torch::kFloat32);
  decode_pixels(record, hu.data_ptr<float>(), where);
  if (o.depth > 0) {  // as DicomDataset: the volume path has no file window
    return preprocess_volume(fit_volume(hu, record.spacing, volume_fit(o), where), o, a);
  }
  if (o.window_from_file && record.has_window && record.window_width > 0) {
    DicomDatasetOptions own = o;  // the same rule as DicomDataset::get
    own.window_center = record.window_center;
    own.window_width = record.window_width;
    return preprocess_hu(hu, own, a);
  }
  return preprocess_hu(hu, o, a);
}

// record_image, or with o.raw_stored_values the record's stored values when
// the device can preprocess them (raw_sample.h).
Sample record_sample(const Record& record, const DicomDatasetOptions& o, const Augmentation& a,
                     const std::string& where) {
  // Sized first: a record needing a resize is decoded once, by record_image.
  if (o.raw_stored_values && o.depth == 0 && record.encoding != PixelEncoding::kFloat32 &&
      static_cast<int64_t>(record.rows) == o.image_size && static_cast<int64_t>(record.cols) == o.image_size) {
    torch::Tensor hu = torch::empty({static_cast<int64_t>(record.rows), static_cast<int64_t>(record.cols)},
                                    torch::kFloat32);
    decode_pixels(record, hu.data_ptr<float>(), where);
    DicomDatasetOptions own = o;
    if (o.window_from_file && record.has_window && record.window_width > 0) {
      own.window_center = record.window_center;
      own.window_width = record.window_width;
    }
    if (auto raw = raw_sample(hu, record.slope, record.intercept, own, a)) return std::move(*raw);
  }
  Sample s;
  s.image = record_image(record, o, a, where);
  return s;
}

// The record's mask on the image's voxels, as DicomDataset::target makes it.
torch::Tensor record_mask_target(const Record& record, const DicomDatasetOptions& o, const Augmentation& a,
                                 const std::string& where) {
  torch::Tensor mask = record_mask(record, o.num_classes, where);
  if (o.depth > 0) {
    const std::array<int64_t, 3> grid{record.depth, record.rows, record.cols};
    mask = fit_mask(mask, grid, record.spacing, volume_fit(o), where);
  }
  return preprocess_mask(mask, o, a);
}

Sample raw_record_sample(const Record& record) {
  Sample raw;
  raw.image = torch::empty({1, static_cast<int64_t>(record.pixels.size())}, torch::kUInt8);
  std::copy(record.pixels.begin(), record.pixels.end(), raw.image.data_ptr<uint8_t>());
  raw.target = torch::scalar_tensor(record.label, torch::kInt64);
  return raw;
}

}  // namespace

Sample ShardDataset::get(size_t index, uint64_t rng_seed) const {
  const auto [s, r] = locate(index);
  const ShardReader& rd = *shards_[s]->index;
  Record record;
  try {
    const auto block = block_of(s, r);
    record = decode_record(rd.checked_record(*block, r), rd.entry(r).length, rd.where(r));
  } catch (const io::TransientReadError&) {
    throw;  // the loader reads again (Note [Transient reads]); not a bad record (yet)
  } catch (const DataError&) {
    ++bad_records_;
    throw;
  }
  if (options_.records_only) return raw_record_sample(record);
  const DicomDatasetOptions& o = options_.preprocess;
  const Augmentation augmentation = draw_augmentation(rng_seed, o);
  Sample sample = record_sample(record, o, augmentation, rd.where(r));
  sample.target = o.target == TargetKind::kMask ? record_mask_target(record, o, augmentation, rd.where(r))
                                                : record_target(record.label, o, rd.where(r));
  return sample;
}

std::shared_ptr<ShardDataset> open_shard_dataset(const ShardDatasetOptions& options) {
  return std::make_shared<ShardDataset>(options);
}

}  // namespace medtrain::data::shard
