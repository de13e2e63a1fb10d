#include "trainer/engine/training_data.h"

#include <fmt/format.h>

#include <algorithm>
#include <filesystem>

#include "data/audio/speech_pack.h"
#include "data/audio/whisper_tokens.h"
#include "data/data_error.h"
#include "data/deid/verify.h"
#include "data/dicom/dicom_dataset.h"
#include "data/io/user_file.h"
#include "data/manifest.h"
#include "data/sampler.h"
#include "data/shard/shard_dataset.h"
#include "data/shard/shard_order.h"
#include "data/text/text_dataset.h"
#include "data/text/text_pack.h"
#include "models/model_error.h"
#include "models/nlu/hf_folder.h"
#include "trainer/engine/task.h"
#include "trainer/user_error.h"

namespace medtrain::engine {

namespace {

data::DicomDatasetOptions dicom_options(const config::Config& config, const std::string& split, bool augment) {
  const config::DataConfig& cfg = config.data;
  const Task task = resolve_task(config);
  data::DicomDatasetOptions o;
  o.target = target_kind(task);
  o.num_classes = config.model.num_classes;  // labels are checked against it at open
  o.depth = cfg.depth;
  o.slice_spacing = cfg.slice_spacing;
  o.pixel_spacing = cfg.pixel_spacing;
  o.label_names = cfg.label_names;
  o.root = cfg.root;
  o.manifest = cfg.manifest;
  o.split = split;
  o.image_size = cfg.image_size;
  o.window_center = cfg.window_center;
  o.window_width = cfg.window_width;
  o.window_from_file = cfg.window_from_file;
  o.rgb = cfg.colour == "rgb";
  o.mean = cfg.mean;
  o.std = cfg.std;
  o.augment = augment;
  o.rotate_degrees = cfg.rotate_degrees;
  o.min_crop = cfg.crop_scale;
  if (split == cfg.train_split) {  // evaluation and inference see whole volumes
    o.patch_size = cfg.patch_size;
    o.patch_depth = cfg.patch_depth;
  }
  return o;
}

std::shared_ptr<const data::Dataset> open_split(const config::Config& cfg, const std::string& split,
                                                bool augment, bool raw = false) {
  data::DicomDatasetOptions o = dicom_options(cfg, split, augment);
  o.raw_stored_values = raw;
  return data::open_dicom_dataset(o);
}

// RAM the block cache must keep so that each block is read from the NAS once
// per epoch: the shuffle buffer draws from the next `shuffle_buffer` records,
// and the loader holds prefetch_batches + 1 batches beyond that (plus the
// read-ahead's readahead_batches), so every block overlapping that span is
// still wanted. With a smaller LRU a block is
// evicted between the reads of its records and fetched again, up to once per
// record (measured: 4 MiB blocks of 116 KB records through a 1 ms NAS ran at
// 35 MB/s instead of hundreds). Twice the span (LRU slack) plus a block per
// loader thread; never below the 64 MiB default.
uint64_t shard_working_set_bytes(const config::Config& config, const data::shard::ShardMetadata& meta) {
  uint64_t bytes = 0, records = 0;
  for (const auto& s : meta.shards) bytes += s.bytes, records += s.records;
  if (records == 0) return 64ull << 20;
  const uint64_t per_record = bytes / records;
  const auto& d = config.data;
  const uint64_t span = static_cast<uint64_t>(d.shuffle_buffer) +
                        static_cast<uint64_t>(config.optim.batch_size) *
                            static_cast<uint64_t>(d.prefetch_batches + d.readahead_batches + 1);
  const uint64_t block = data::shard::ShardDatasetOptions{}.block_bytes;
  return std::max<uint64_t>(64ull << 20, 2 * span * per_record + block * static_cast<uint64_t>(d.workers + 1));
}

// data.shards: splits come from the pack's metadata.json, not from data.manifest.
DataSplits open_shard_splits(const config::Config& config, bool records_only, bool raw_train) {
  namespace shard = data::shard;
  const config::DataConfig& cfg = config.data;
  // Which tasks and data.depth a pack can serve is ShardDataset's check.
  const shard::ShardMetadata meta = shard::read_metadata(cfg.shards);
  shard::CacheOptions cache;
  cache.ram_bytes = static_cast<uint64_t>(cfg.cache_ram_gb * static_cast<double>(1ull << 30));
  cache.dir = cfg.cache_dir;
  cache.dataset_key = meta.manifest_sha256;
  cache.working_set_bytes = shard_working_set_bytes(config, meta);
  auto shared_cache = std::make_shared<shard::ShardCache>(cache);
  auto open = [&](const std::string& split, bool augment, bool raw = false) {
    shard::ShardDatasetOptions o;
    o.dir = cfg.shards;
    o.split = split;
    o.preprocess = dicom_options(config, split, augment);
    o.preprocess.raw_stored_values = raw;
    o.cache = shared_cache;
    o.records_only = records_only;
    return shard::open_shard_dataset(o);
  };
  DataSplits splits;
  auto train = open(cfg.train_split, cfg.augment, raw_train);
  if (train->size() == 0) {
    throw UserError("data.shards " + data::io::display_path(cfg.shards) + ": no records in split '" + cfg.train_split +
                    "'");
  }
  splits.train_shard_sizes = train->shard_sizes();
  splits.train = train;
  std::shared_ptr<shard::ShardDataset> val;
  if (!cfg.val_split.empty()) {
    val = open(cfg.val_split, /*augment=*/false);
    if (val->size() > 0) splits.val = val;
  }
  splits.report = [train, val, shared_cache] {
    const auto c = shared_cache->stats();
    const uint64_t bad = train->bad_records() + (val ? val->bad_records() : 0);
    return fmt::format("data.shards: {} bad records; block cache {} hits / {} misses; cache_dir {} hits, {} fetches, "
                       "{} corrupt copies re-fetched, {} source mismatches",
                       bad, c.ram_hits, c.ram_misses, c.disk_hits, c.disk_fetches, c.disk_refetches,
                       c.source_mismatches);
  };
  return splits;
}

// data.require_deidentified: every file the run may read passes the check that
// `medtrain deid --verify` applies; the first one that fails stops the run,
// named with the tag at fault (never its value).
void require_deidentified(const config::DataConfig& cfg) {
  namespace fs = std::filesystem;
  data::ManifestOptions o;
  o.manifest_path = cfg.manifest;
  o.root = cfg.root;
  o.paths_are_folders = cfg.depth > 0;
  o.label_names = cfg.label_names;
  const auto manifest = data::read_manifest(o);
  for (const auto& row : manifest.rows) {
    if (row.split != cfg.train_split && row.split != cfg.val_split && !row.split.empty()) continue;
    std::vector<fs::path> files{fs::path(manifest.root) / row.path};
    if (cfg.depth > 0) {  // a series folder: every slice in it
      files.clear();
      for (const auto& entry : fs::directory_iterator(fs::path(manifest.root) / row.path)) {
        if (entry.is_regular_file()) files.push_back(entry.path());
      }
    }
    for (const auto& file : files) {
      if (auto problem = data::deid::check_deidentified(file.string())) {
        throw UserError("data.require_deidentified: " + data::io::display_path(file.string()) + " (manifest line " +
                        std::to_string(row.line) + ") is not de-identified: " + *problem +
                        " (run `medtrain deid` first)");
      }
    }
  }
}

std::string text_report(const char* split, const data::text::TextDataset& d) {
  const auto& s = d.stats();
  std::string line = fmt::format("{} {} texts, longest {} tokens", split, s.texts, s.longest);
  if (s.truncated > 0) line += fmt::format(", {} cut at data.max_length", s.truncated);
  if (s.spans_cut > 0) line += fmt::format(", {} spans lost to the cut", s.spans_cut);
  return line;
}

// One split of the reports: from data.shards (a text pack, read whole at open)
// or from data.manifest (JSONL, tokenised at open); the same samples either way.
std::shared_ptr<data::text::TextDataset> open_text_split(const config::Config& config, const std::string& split) {
  const auto o = text_dataset_options(config, split);
  return config.data.shards.empty() ? data::text::open_text_dataset(o)
                                    : data::text::open_text_shards(config.data.shards, o);
}

// data.dataset text: JSONL reports tokenised at open (data/text/text_dataset.h),
// or the pack `medtrain pack -c` made of them (data/text/text_pack.h).
DataSplits open_text_splits(const config::Config& config) {
  const config::DataConfig& cfg = config.data;
  if (cfg.manifest.empty() && cfg.shards.empty()) {
    throw UserError("data.manifest: required (a JSONL file of reports; docs/text.md), or data.shards (a pack of them)");
  }
  if (cfg.label_names.empty()) {  // the config loader checked their number against model.num_classes
    throw UserError("data.label_names: text needs the names (findings, classes, or entity types of the spans)");
  }
  DataSplits splits;
  auto train = open_text_split(config, cfg.train_split);
  if (train->size() == 0) {
    throw UserError((cfg.shards.empty() ? "data.manifest " + data::io::display_path(cfg.manifest)
                                        : "data.shards " + data::io::display_path(cfg.shards)) +
                    ": no rows in split '" + cfg.train_split + "'");
  }
  int64_t model_pad = 0;
  try {
    model_pad = models::nlu::read_hf_bert_config(config.model.pretrained).pad_token_id;
  } catch (const models::ModelError& e) {
    throw UserError(std::string("model.pretrained: ") + e.what());
  }
  if (train->pad_id() != model_pad) {
    throw UserError(fmt::format("model.pretrained {}: the tokenizer pads with id {} but config.json has pad_token_id "
                                "{}; padding would be read as text",
                                config.model.pretrained, train->pad_id(), model_pad));
  }
  std::string report = text_report("train", *train);
  splits.train = train;
  if (!cfg.val_split.empty()) {
    auto val = open_text_split(config, cfg.val_split);
    if (val->size() > 0) {
      report += "; " + text_report("val", *val);
      splits.val = val;
    }
  }
  splits.report = [report] { return report; };
  return splits;
}

std::string speech_report(const char* split, const data::audio::SpeechDataset& d) {
  const auto& s = d.stats();
  return fmt::format("{} {} utterances, {} speakers, {} patients, longest {} tokens", split, s.utterances, s.speakers,
                     s.patients, s.longest_tokens);
}

std::shared_ptr<data::audio::SpeechDataset> open_speech_split(const config::Config& config, const std::string& split) {
  const auto o = speech_dataset_options(config, split);
  return config.data.shards.empty() ? data::audio::open_speech_dataset(o)
                                    : data::audio::open_speech_shards(config.data.shards, o);
}

// data.dataset speech: JSONL dictation (audio decoded by the loader's workers)
// or its pack; the same samples either way.
DataSplits open_speech_splits(const config::Config& config) {
  const config::DataConfig& cfg = config.data;
  if (cfg.manifest.empty() && cfg.shards.empty()) {
    throw UserError("data.manifest: required (a JSONL file of dictation: audio, text, speaker, patient, split; "
                    "docs/asr.md), or data.shards (a pack of it)");
  }
  try {  // the tokenizer's folder is the model's: name the key that points at it
    data::audio::whisper_tokens(data::audio::load_whisper_tokenizer(config.model.pretrained), config.model.pretrained);
  } catch (const data::DataError& e) {
    throw UserError(std::string("model.pretrained: ") + e.what());
  }
  DataSplits splits;
  auto train = open_speech_split(config, cfg.train_split);
  if (train->size() == 0) {
    throw UserError((cfg.shards.empty() ? "data.manifest " + data::io::display_path(cfg.manifest)
                                        : "data.shards " + data::io::display_path(cfg.shards)) +
                    ": no rows in split '" + cfg.train_split + "'");
  }
  std::string report = speech_report("train", *train);
  splits.train = train;
  if (!cfg.val_split.empty()) {
    auto val = open_speech_split(config, cfg.val_split);
    if (val->size() > 0) {
      report += "; " + speech_report("val", *val);
      splits.val = val;
    }
  }
  splits.report = [report] { return report; };
  return splits;
}

}  // namespace

data::audio::SpeechDatasetOptions speech_dataset_options(const config::Config& config, const std::string& split) {
  const auto& d = config.data;
  data::audio::SpeechDatasetOptions o;
  o.manifest = d.manifest;
  o.split = split;
  o.tokenizer_dir = config.model.pretrained;
  o.language = d.language;
  o.max_tokens = d.max_length;
  o.spec_augment = d.augment && !split.empty() && split == d.train_split;
  o.spec = {d.freq_masks, d.freq_mask_width, d.time_masks, d.time_mask_width};
  return o;
}

data::text::TextDatasetOptions text_dataset_options(const config::Config& config, const std::string& split) {
  data::text::TextDatasetOptions o;
  o.manifest = config.data.manifest;
  o.split = split;
  const Task task = resolve_task(config);
  o.target = task == Task::kTokenTagging ? data::text::TextTarget::kTags
             : task == Task::kMulticlass ? data::text::TextTarget::kClass
                                         : data::text::TextTarget::kMultiLabel;
  o.label_names = config.data.label_names;
  o.tokenizer_dir = config.model.pretrained;
  o.max_length = config.data.max_length;
  return o;
}

DataSplits open_data(const config::Config& config, bool records_only, bool raw_train_images) {
  const config::DataConfig& cfg = config.data;
  if (is_speech(config)) {
    if (records_only) throw UserError("--records-only: reads image shards; speech runs read data.manifest");
    return open_speech_splits(config);
  }
  if (is_text(config)) {
    if (records_only) throw UserError("--records-only: reads shards; text runs read data.manifest");
    return open_text_splits(config);
  }
  if (!cfg.shards.empty()) {
    if (cfg.require_deidentified) {
      // Shards hold pixels, not headers: check the manifest the pack was made from.
      if (cfg.manifest.empty()) {
        throw UserError("data.require_deidentified: with data.shards, set data.manifest to the manifest the "
                        "shards were packed from, so its files can be checked");
      }
      require_deidentified(cfg);
    }
    return open_shard_splits(config, records_only, raw_train_images && !records_only);
  }
  if (records_only) throw UserError("--records-only: reads shards; set data.shards (or pass the pack folder)");
  if (cfg.manifest.empty()) {
    throw UserError("data.manifest: required (a CSV with path, label|labels|mask[, patient_id, split])");
  }
  if (cfg.require_deidentified) require_deidentified(cfg);
  DataSplits splits;
  splits.train = open_split(config, cfg.train_split, cfg.augment, raw_train_images);
  if (splits.train->size() == 0) {
    throw UserError("data.manifest " + data::io::display_path(cfg.manifest) + ": no rows in split '" + cfg.train_split +
                    "'");
  }
  if (!cfg.val_split.empty()) {
    auto val = open_split(config, cfg.val_split, /*augment=*/false);
    if (val->size() > 0) splits.val = val;
  }
  return splits;
}

TrainOrder make_train_order(const config::Config& cfg, const DataSplits& data, int rank, int world_size) {
  data::SamplerOptions o{static_cast<uint64_t>(cfg.run.seed), cfg.data.shuffle, rank, world_size,
                         cfg.optim.batch_size};
  if ((is_text(cfg) || is_speech(cfg)) && cfg.data.length_buckets > 0) {
    o.bucket_batches = static_cast<size_t>(cfg.data.length_buckets);
    o.lengths.resize(data.train->size());
    for (size_t i = 0; i < o.lengths.size(); ++i) o.lengths[i] = data.train->length(i);
  }
  TrainOrder order;
  if (!data.train_shard_sizes.empty()) {
    auto sampler = std::make_shared<data::shard::ShardSampler>(data.train_shard_sizes,
                                                               static_cast<size_t>(cfg.data.shuffle_buffer), o);
    order.per_rank = sampler->per_rank();
    order.epoch_indices = [sampler](int64_t epoch) { return sampler->epoch_indices(epoch); };
  } else {
    auto sampler = std::make_shared<data::DistributedSampler>(data.train->size(), o);
    order.per_rank = sampler->per_rank();
    order.epoch_indices = [sampler](int64_t epoch) { return sampler->epoch_indices(epoch); };
  }
  return order;
}

data::LoaderOptions loader_options(const config::Config& cfg, int64_t epoch, bool training) {
  data::LoaderOptions o;
  o.batch_size = static_cast<size_t>(cfg.optim.batch_size);
  o.workers = static_cast<size_t>(cfg.data.workers);
  o.prefetch_batches = static_cast<size_t>(cfg.data.prefetch_batches);
  // Only shards implement Dataset::prefetch; for files the thread would idle.
  o.readahead_batches = cfg.data.shards.empty() || is_text(cfg) || is_speech(cfg) ? 0 : static_cast<size_t>(cfg.data.readahead_batches);
  // Training drops the ragged last batch so every step sees the same batch size
  // (BatchNorm statistics and the step count stay independent of data size).
  o.drop_last = training;
  o.on_error = cfg.data.on_error == "skip" ? data::OnError::kSkip : data::OnError::kFail;
  o.retry.retries = static_cast<int>(cfg.data.read_retries);
  o.retry.backoff_ms = static_cast<int>(cfg.data.read_retry_backoff_ms);
  o.read_timeout_s = cfg.data.read_timeout_s;
  o.seed = static_cast<uint64_t>(cfg.run.seed);
  o.epoch = epoch;
  return o;
}

}  // namespace medtrain::engine
