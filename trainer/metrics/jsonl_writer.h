#pragma once
// Appends one JSON object per line (metrics.jsonl), flushed per record so a
// killed run keeps everything it logged.
#include <nlohmann/json_fwd.hpp>

#include <filesystem>
#include <fstream>

namespace medtrain::metrics {

class JsonlWriter {
 public:
  explicit JsonlWriter(const std::filesystem::path& path);  // appends
  // `record` must be a JSON object (std::invalid_argument otherwise); it is
  // written compactly on one line and flushed. Invalid UTF-8 in strings is
  // replaced rather than thrown on: a log line is never worth a crashed run.
  void write(const nlohmann::json& record);

 private:
  std::filesystem::path path_;  // for error messages
  std::ofstream out_;
};

}  // namespace medtrain::metrics
