#include "trainer/export/infer_dataset.h"

#include "data/data_error.h"

namespace medtrain::exporter {

InferDataset::InferDataset(std::vector<std::string> paths, data::DicomDatasetOptions options) {
  data::Manifest manifest;
  manifest.manifest_path = options.manifest;
  for (size_t i = 0; i < paths.size(); ++i) {
    data::ManifestRow row;
    row.path = std::move(paths[i]);  // absolute or relative to the working directory; root stays empty
    row.line = i + 1;
    manifest.rows.push_back(std::move(row));
  }
  options.augment = false;
  dicom_ = std::make_shared<data::DicomDataset>(std::move(manifest), options);
}

size_t InferDataset::size() const { return dicom_->size(); }

data::Sample InferDataset::get(size_t index, uint64_t rng_seed) const {
  try {
    data::Sample s = dicom_->get(index, rng_seed);
    s.target = torch::scalar_tensor(static_cast<int64_t>(index), torch::kInt64);
    return s;
  } catch (const data::DataError& e) {
    std::lock_guard<std::mutex> lk(mu_);
    failures_.emplace(index, e.what());
    throw;
  }
}

std::string InferDataset::describe(size_t index) const { return dicom_->describe(index); }

int64_t InferDataset::label(size_t index) const { return static_cast<int64_t>(index); }

std::map<size_t, std::string> InferDataset::failures() const {
  std::lock_guard<std::mutex> lk(mu_);
  return failures_;
}

}  // namespace medtrain::exporter
