#pragma once
// Reads back the event files EventFileWriter writes (the run report, tests):
// TFRecord framing with both CRCs checked, and the Event/Summary fields we
// emit. Values of kinds we do not write (audio, histograms) are skipped.
#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

namespace medtrain::metrics {

struct EventValue {
  enum class Kind { kScalar, kImage, kText, kTensor };
  int64_t step = 0;
  double wall_time = 0;
  std::string tag;
  Kind kind = Kind::kScalar;
  double scalar = 0;       // kScalar
  std::string png;         // kImage: the encoded PNG
  int64_t width = 0, height = 0;  // kImage
  std::string text;        // kText: the markdown (the tensor's first string)
  std::string plugin;      // kTensor/kText: plugin_name ("pr_curves", "text")
  std::vector<int64_t> shape;  // kTensor: tensor shape
  std::vector<float> floats;   // kTensor: DT_FLOAT values (float_val or tensor_content)
};

// Every summary value of every event in `file`, in file order. Throws
// std::runtime_error naming the file and byte offset when a record is cut
// short, a CRC does not match or a payload is not an Event.
std::vector<EventValue> read_event_file(const std::filesystem::path& file);

// The values of every events.out.tfevents.* file directly in `dir`, files in
// name order (subfolders are not searched). Empty when there are none or
// `dir` is not a folder.
std::vector<EventValue> read_event_dir(const std::filesystem::path& dir);

}  // namespace medtrain::metrics
