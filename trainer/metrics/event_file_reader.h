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
// short, a CRC does not match or a payload is not an Event; data::DataError
// (a std::runtime_error) naming it when it is missing or not a regular file
// (a FIFO is refused without blocking; symbolic links are followed).
// With `cut_tail`, a last record cut short by the end of the file (what a run
// killed mid-write leaves; TensorBoard reads past it too) ends the read
// instead: the values before it are returned and *cut_tail says where.
std::vector<EventValue> read_event_file(const std::filesystem::path& file, std::string* cut_tail = nullptr);

// The values of every events.out.tfevents.* file directly in `dir`, files in
// name order (subfolders are not searched; an entry of that name that is a
// folder, FIFO or device is refused as read_event_file refuses it). Empty when there are none or
// `dir` is not a folder. With `cut_tails`: as `cut_tail` above, one line per
// file whose last record was cut short.
std::vector<EventValue> read_event_dir(const std::filesystem::path& dir,
                                       std::vector<std::string>* cut_tails = nullptr);

}  // namespace medtrain::metrics
