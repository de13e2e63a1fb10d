#include "trainer/metrics/event_file_writer.h"

#include <unistd.h>

#include <array>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <ctime>
#include <iomanip>
#include <sstream>
#include <stdexcept>
#include <system_error>

#include "trainer/metrics/crc32c.h"
#include "trainer/metrics/event_proto.h"
#include "trainer/metrics/png_codec.h"
#include "trainer/user_error.h"

namespace medtrain::metrics {
namespace {

// "brain.Event:2" tells readers that restarts are marked by SessionLog.START,
// so TensorBoard keeps out-of-order steps instead of purging them.
constexpr const char* kFileVersion = "brain.Event:2";

double wall_time_now() {
  using namespace std::chrono;
  return duration<double>(system_clock::now().time_since_epoch()).count();
}

std::string host_name() {
  std::array<char, 256> buf{};
  if (gethostname(buf.data(), buf.size() - 1) != 0 || buf[0] == '\0') return "localhost";
  return buf.data();
}

// events.out.tfevents.<10-digit unix time>.<hostname>.medtrain, the pattern
// TensorBoard's directory watcher looks for ("tfevents" in the name). A second
// writer in the same directory within the same second gets a ".N" suffix rather
// than truncating the first one's file.
std::filesystem::path unique_event_path(const std::filesystem::path& dir) {
  std::ostringstream base;
  base << "events.out.tfevents." << std::setw(10) << std::setfill('0')
       << static_cast<long long>(std::time(nullptr)) << "." << host_name() << ".medtrain";
  std::filesystem::path candidate = dir / base.str();
  for (int n = 2; std::filesystem::exists(candidate); ++n) {
    candidate = dir / (base.str() + "." + std::to_string(n));
  }
  return candidate;
}

void append_le(std::string& out, uint64_t value, int bytes) {
  for (int i = 0; i < bytes; ++i) out.push_back(static_cast<char>((value >> (8 * i)) & 0xFF));
}

}  // namespace

EventFileWriter::EventFileWriter(const std::filesystem::path& dir) {
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  if (ec) {
    throw UserError("TensorBoard log directory " + dir.string() +
                    ": cannot create it: " + ec.message());
  }
  path_ = unique_event_path(dir);
  out_.open(path_, std::ios::binary | std::ios::trunc);
  if (!out_) {
    throw UserError("TensorBoard event file " + path_.string() +
                    ": cannot open for writing: " + std::strerror(errno));
  }
  write_record(detail::encode_file_version_event(wall_time_now(), kFileVersion));
  flush();
}

void EventFileWriter::add_scalar(const std::string& tag, double value, int64_t step) {
  // simple_value is a float32 in the proto; the narrowing is TensorBoard's, not ours.
  write_record(detail::encode_scalar_event(wall_time_now(), step, tag,
                                           static_cast<float>(value)));
  flush();  // a killed run keeps every scalar it logged; TensorBoard reads live
}

void EventFileWriter::add_image(const std::string& tag, const RasterImage& image, int64_t step) {
  const std::string png = encode_png(image);  // throws std::invalid_argument for a bad image
  write_record(detail::encode_image_event(wall_time_now(), step, tag, image.height, image.width,
                                          image.channels, png));
  flush();
}

void EventFileWriter::add_text(const std::string& tag, const std::string& markdown, int64_t step) {
  // TextPluginData{version 0} serialises to no bytes: the content stays empty.
  write_record(detail::encode_tensor_event(wall_time_now(), step, tag, detail::encode_string_tensor(markdown),
                                           detail::encode_plugin_metadata("text", "")));
  flush();
}

void EventFileWriter::add_pr_curve(const std::string& tag, const PrCurve& curve, int64_t step) {
  if (curve.num_thresholds < 2 || curve.data.size() != static_cast<size_t>(6 * curve.num_thresholds)) {
    throw std::invalid_argument("PR curve " + tag + ": " + std::to_string(curve.data.size()) +
                                " values for " + std::to_string(curve.num_thresholds) +
                                " thresholds; expected 6 x num_thresholds with num_thresholds >= 2");
  }
  const std::string metadata =
      detail::encode_plugin_metadata("pr_curves", detail::encode_pr_curve_plugin_data(curve.num_thresholds));
  write_record(detail::encode_tensor_event(wall_time_now(), step, tag,
                                           detail::encode_float_tensor({6, curve.num_thresholds}, curve.data),
                                           metadata));
  flush();
}

void EventFileWriter::flush() {
  out_.flush();
  if (!out_) {
    throw std::runtime_error("TensorBoard event file " + path_.string() + ": write failed (" +
                             std::strerror(errno) + ")");
  }
}

// TFRecord framing: uint64 length, masked CRC32C of those 8 bytes, payload,
// masked CRC32C of the payload; all little-endian.
void EventFileWriter::write_record(const std::string& payload) {
  std::string record;
  record.reserve(payload.size() + 16);
  append_le(record, payload.size(), 8);
  append_le(record, masked_crc32c(crc32c(record.data(), 8)), 4);
  record += payload;
  append_le(record, masked_crc32c(crc32c(payload)), 4);
  out_.write(record.data(), static_cast<std::streamsize>(record.size()));
  if (!out_) {
    throw std::runtime_error("TensorBoard event file " + path_.string() + ": write failed (" +
                             std::strerror(errno) + ")");
  }
}

}  // namespace medtrain::metrics
