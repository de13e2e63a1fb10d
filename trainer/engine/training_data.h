#pragma once
// Builds the datasets and loaders a run needs from the data section of the
// config. The engine sees only data::Dataset, so the streaming shard pipeline
// can replace the DICOM dataset here without touching the loop.
#include <memory>
#include <vector>

#include "data/batch_loader.h"
#include "data/dataset.h"
#include "trainer/config/config.h"

namespace medtrain::engine {

struct DataSplits {
  std::shared_ptr<const data::Dataset> train;
  std::shared_ptr<const data::Dataset> val;  // null when the manifest has no val rows
};

DataSplits open_data(const config::DataConfig& cfg);

data::LoaderOptions loader_options(const config::Config& cfg, int64_t epoch, bool training);

}  // namespace medtrain::engine
