#pragma once
// The training preprocessing (data::DicomDataset, so windowing, normalization
// and resizing are the very code training ran) over a list of files, with two
// additions inference needs from data::BatchLoader:
//  - each sample's target is its index, so a batch says which files it holds
//    after others were skipped under on_error: skip;
//  - the reason a file failed is kept (the loader drops skipped errors), so
//    the summary can name the files and why.
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "data/dataset.h"
#include "data/dicom/dicom_dataset.h"

namespace medtrain::exporter {

class InferDataset : public data::Dataset {
 public:
  InferDataset(std::vector<std::string> paths, data::DicomDatasetOptions options);
  size_t size() const override;
  data::Sample get(size_t index, uint64_t rng_seed) const override;  // target = index
  std::string describe(size_t index) const override;
  int64_t label(size_t index) const override;  // the index

  // index -> the DataError message of every file that failed so far.
  std::map<size_t, std::string> failures() const;

 private:
  std::shared_ptr<data::DicomDataset> dicom_;
  mutable std::mutex mu_;
  mutable std::map<size_t, std::string> failures_;
};

}  // namespace medtrain::exporter
