#pragma once
// TensorBoard event files written directly: TFRecord framing (length, masked
// CRC32C, payload, masked CRC32C) around hand-encoded tensorflow.Event protos.
// Only scalars; readable by TensorBoard's own EventAccumulator.
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <string>

namespace medtrain::metrics {

class EventFileWriter {
 public:
  // Creates <dir>/events.out.tfevents.<unix time>.<hostname>.medtrain and
  // writes the file_version record. Throws medtrain::UserError naming the path
  // when the directory cannot be created or the file opened; add_scalar/flush
  // throw std::runtime_error when a write fails (disk full). One thread, one
  // writer per file (rank 0); every scalar is flushed as it is added.
  explicit EventFileWriter(const std::filesystem::path& dir);
  void add_scalar(const std::string& tag, double value, int64_t step);
  void flush();
  const std::filesystem::path& path() const { return path_; }

 private:
  void write_record(const std::string& payload);
  std::filesystem::path path_;
  std::ofstream out_;
};

}  // namespace medtrain::metrics
