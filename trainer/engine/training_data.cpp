#include "trainer/engine/training_data.h"

#include <filesystem>

#include "data/deid/verify.h"
#include "data/dicom_dataset.h"
#include "data/manifest.h"
#include "trainer/user_error.h"

namespace medtrain::engine {

namespace {

std::shared_ptr<const data::Dataset> open_split(const config::DataConfig& cfg, const std::string& split,
                                                bool augment) {
  data::DicomDatasetOptions o;
  o.root = cfg.root;
  o.manifest = cfg.manifest;
  o.split = split;
  o.image_size = cfg.image_size;
  o.window_center = cfg.window_center;
  o.window_width = cfg.window_width;
  o.mean = cfg.mean;
  o.std = cfg.std;
  o.augment = augment;
  return data::open_dicom_dataset(o);
}

// data.require_deidentified: every file the run may read passes the check that
// `medtrain deid --verify` applies; the first one that fails stops the run,
// named with the tag at fault (never its value).
void require_deidentified(const config::DataConfig& cfg) {
  data::ManifestOptions o;
  o.manifest_path = cfg.manifest;
  o.root = cfg.root;
  const auto manifest = data::read_manifest(o);
  for (const auto& row : manifest.rows) {
    if (row.split != cfg.train_split && row.split != cfg.val_split && !row.split.empty()) continue;
    const auto path = (std::filesystem::path(manifest.root) / row.path).string();
    if (auto problem = data::deid::check_deidentified(path)) {
      throw UserError("data.require_deidentified: " + path + " (manifest line " + std::to_string(row.line) +
                      ") is not de-identified: " + *problem + " (run `medtrain deid` first)");
    }
  }
}

}  // namespace

DataSplits open_data(const config::DataConfig& cfg) {
  if (cfg.manifest.empty()) throw UserError("data.manifest: required (a CSV with path,label[,patient_id,split])");
  if (cfg.require_deidentified) require_deidentified(cfg);
  DataSplits splits;
  splits.train = open_split(cfg, cfg.train_split, cfg.augment);
  if (splits.train->size() == 0) {
    throw UserError("data.manifest " + cfg.manifest + ": no rows in split '" + cfg.train_split + "'");
  }
  if (!cfg.val_split.empty()) {
    auto val = open_split(cfg, cfg.val_split, /*augment=*/false);
    if (val->size() > 0) splits.val = val;
  }
  return splits;
}

data::LoaderOptions loader_options(const config::Config& cfg, int64_t epoch, bool training) {
  data::LoaderOptions o;
  o.batch_size = static_cast<size_t>(cfg.optim.batch_size);
  o.workers = static_cast<size_t>(cfg.data.workers);
  o.prefetch_batches = static_cast<size_t>(cfg.data.prefetch_batches);
  // Training drops the ragged last batch so every step sees the same batch size
  // (BatchNorm statistics and the step count stay independent of data size).
  o.drop_last = training;
  o.on_error = cfg.data.on_error == "skip" ? data::OnError::kSkip : data::OnError::kFail;
  o.seed = static_cast<uint64_t>(cfg.run.seed);
  o.epoch = epoch;
  return o;
}

}  // namespace medtrain::engine
