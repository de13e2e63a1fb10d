#pragma once
// A Dataset whose samples are whole files read as raw bytes, with no decoding:
// for measuring what the storage alone costs a loader (iobench --simulate).
// get() opens, reads and closes the file, and returns a tiny tensor derived
// from every byte (so no read can be optimized away). Thread-safe.
#include <string>
#include <vector>

#include "data/dataset.h"
#include "data/io/file_survey.h"

namespace medtrain::data::io {

class RawFileDataset : public Dataset {
 public:
  // drop_caches: fadvise(DONTNEED) each file after reading it, so that the
  // next epoch reads the storage again rather than the page cache.
  RawFileDataset(std::vector<FileEntry> files, bool drop_caches);
  size_t size() const override { return files_.size(); }
  // image: float32 [1, 1, 1] = (sum of bytes mod 251) / 251; target: 0.
  // Throws DataError naming the file when it cannot be read.
  Sample get(size_t index, uint64_t rng_seed) const override;
  std::string describe(size_t index) const override { return files_.at(index).path; }
  int64_t label(size_t) const override { return 0; }
  uint64_t bytes(size_t index) const { return files_.at(index).bytes; }

 private:
  std::vector<FileEntry> files_;
  bool drop_caches_;
};

}  // namespace medtrain::data::io
