#pragma once
// Builds the datasets and loaders a run needs from the data section of the
// config. The engine sees only data::Dataset, so the streaming shard pipeline
// can replace the DICOM dataset here without touching the loop.
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "data/audio/speech_dataset.h"
#include "data/batch_loader.h"
#include "data/dataset.h"
#include "data/text/text_dataset.h"
#include "trainer/config/config.h"

namespace medtrain::engine {

struct DataSplits {
  std::shared_ptr<const data::Dataset> train;
  std::shared_ptr<const data::Dataset> val;  // null when the manifest has no val rows
  std::vector<size_t> train_shard_sizes;      // data.shards: records per shard of the train split
  // data.shards: one line of cache hits/misses and bad records, for the run's
  // log; empty otherwise.
  std::function<std::string()> report;
};

// Datasets for the train and val splits, with targets for model.task.
// records_only (data.shards only, for `iobench --simulate --records-only`):
// samples are verified record bytes, not images (shard_dataset.h).
// raw_train_images (image datasets): the train split ships stored values where
// the device can preprocess them (data/dicom/raw_sample.h; the trainer sets it
// from choose_preprocess); val stays float.
DataSplits open_data(const config::Config& cfg, bool records_only = false, bool raw_train_images = false);

// data.dataset text: what the reports of `split` are read and tokenised with
// (manifest, target for model.task, label names, model.pretrained's tokenizer,
// data.max_length). Training and `medtrain pack -c` both use it, so a pack
// and the run it feeds cannot disagree.
data::text::TextDatasetOptions text_dataset_options(const config::Config& cfg, const std::string& split);

// data.dataset speech: how the dictation of `split` is read (manifest,
// model.pretrained's tokenizer, data.language, data.max_length target tokens,
// SpecAugment from data.augment on the train split). Training and `medtrain
// pack -c` both use it.
data::audio::SpeechDatasetOptions speech_dataset_options(const config::Config& cfg, const std::string& split);

// This rank's training indices per epoch. DICOM: data::DistributedSampler.
// Shards: data::shard::ShardSampler (shard shuffle + data.shuffle_buffer), with
// the same batch-blocked rank split, so resume and world-size changes behave alike.
struct TrainOrder {
  std::function<std::vector<size_t>(int64_t epoch)> epoch_indices;
  size_t per_rank = 0;  // full batches per rank times the batch size
};
TrainOrder make_train_order(const config::Config& cfg, const DataSplits& data, int rank, int world_size);

data::LoaderOptions loader_options(const config::Config& cfg, int64_t epoch, bool training);

}  // namespace medtrain::engine
