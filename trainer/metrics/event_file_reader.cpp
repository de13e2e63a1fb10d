#include "trainer/metrics/event_file_reader.h"

#include <algorithm>
#include <cstring>
#include <iterator>
#include <map>
#include <optional>
#include <stdexcept>
#include <string_view>

#include "data/io/user_file.h"
#include "trainer/metrics/crc32c.h"
#include "trainer/metrics/event_proto.h"

namespace medtrain::metrics {
namespace {

using detail::WireReader;

// Field numbers: event_proto.h lists the messages.
constexpr int kEventWallTime = 1, kEventStep = 2, kEventSummary = 5;
constexpr int kSummaryValue = 1;
constexpr int kValueTag = 1, kValueSimpleValue = 2, kValueImage = 4, kValueTensor = 8, kValueMetadata = 9;
constexpr int kImageHeight = 1, kImageWidth = 2, kImageEncoded = 4;
constexpr int kMetadataPluginData = 1, kPluginName = 1;
constexpr int kTensorDtype = 1, kTensorShape = 2, kTensorContent = 4, kTensorFloatVal = 5, kTensorStringVal = 8;
constexpr int kShapeDim = 2, kDimSize = 1;

// One Summary.Value as it is on the wire; which of its parts are present
// decides its kind.
struct RawValue {
  std::string tag;
  std::optional<float> simple_value;
  std::optional<std::string_view> image, tensor;
  std::string plugin;
  bool has_metadata = false;
};

std::string plugin_name(std::string_view metadata) {
  WireReader m(metadata);
  while (m.next()) {
    if (m.field() != kMetadataPluginData) continue;
    WireReader p(m.bytes());
    while (p.next()) {
      if (p.field() == kPluginName) return std::string(p.bytes());
    }
  }
  return "";
}

RawValue parse_value(std::string_view bytes) {
  RawValue v;
  WireReader r(bytes);
  while (r.next()) {
    switch (r.field()) {
      case kValueTag: v.tag = std::string(r.bytes()); break;
      case kValueSimpleValue: v.simple_value = r.as_float(); break;
      case kValueImage: v.image = r.bytes(); break;
      case kValueTensor: v.tensor = r.bytes(); break;
      case kValueMetadata:
        v.plugin = plugin_name(r.bytes());
        v.has_metadata = true;
        break;
      default: break;  // histograms, audio, node_name: not ours
    }
  }
  return v;
}

void parse_image(std::string_view bytes, EventValue& out) {
  WireReader r(bytes);
  while (r.next()) {
    switch (r.field()) {
      case kImageHeight: out.height = static_cast<int64_t>(r.varint()); break;
      case kImageWidth: out.width = static_cast<int64_t>(r.varint()); break;
      case kImageEncoded: out.png = std::string(r.bytes()); break;
      default: break;  // colorspace: the PNG says it
    }
  }
}

void append_floats(std::string_view le_bytes, std::vector<float>& out) {
  if (le_bytes.size() % 4 != 0) throw std::runtime_error("float tensor content is not a whole number of floats");
  for (size_t i = 0; i < le_bytes.size(); i += 4) {
    uint32_t bits = 0;
    for (int b = 0; b < 4; ++b) bits |= static_cast<uint32_t>(static_cast<uint8_t>(le_bytes[i + b])) << (8 * b);
    float f = 0;
    std::memcpy(&f, &bits, sizeof(f));
    out.push_back(f);
  }
}

std::vector<int64_t> parse_shape(std::string_view bytes) {
  std::vector<int64_t> shape;
  WireReader r(bytes);
  while (r.next()) {
    if (r.field() != kShapeDim) continue;
    int64_t size = 0;
    WireReader d(r.bytes());
    while (d.next()) {
      if (d.field() == kDimSize) size = static_cast<int64_t>(d.varint());
    }
    shape.push_back(size);
  }
  return shape;
}

// A TensorProto: its shape, its DT_FLOAT values (tensor_content, or float_val
// packed or not), its first string (the text plugin's markdown).
void parse_tensor(std::string_view bytes, EventValue& out) {
  uint64_t dtype = 0;
  std::string_view content;
  std::vector<float> float_val;
  WireReader r(bytes);
  while (r.next()) {
    switch (r.field()) {
      case kTensorDtype: dtype = r.varint(); break;
      case kTensorShape: out.shape = parse_shape(r.bytes()); break;
      case kTensorContent: content = r.bytes(); break;
      case kTensorFloatVal:
        if (r.is_bytes()) {
          append_floats(r.bytes(), float_val);
        } else {
          float_val.push_back(r.as_float());
        }
        break;
      case kTensorStringVal:
        if (out.text.empty()) out.text = std::string(r.bytes());
        break;
      default: break;
    }
  }
  if (dtype == static_cast<uint64_t>(detail::kDtFloat)) {
    if (!content.empty()) {
      append_floats(content, out.floats);
    } else {
      out.floats = std::move(float_val);
    }
  }
}

// The values of one Event payload, appended to `out`. `plugins`: the plugin
// of each tag seen so far (TensorFlow writes a tag's metadata only once).
void parse_event(std::string_view payload, std::map<std::string, std::string>& plugins,
                 std::vector<EventValue>& out) {
  double wall_time = 0;
  int64_t step = 0;
  std::vector<std::string_view> summaries;
  WireReader r(payload);
  while (r.next()) {
    switch (r.field()) {
      case kEventWallTime: wall_time = r.as_double(); break;
      case kEventStep: step = static_cast<int64_t>(r.varint()); break;
      case kEventSummary: summaries.push_back(r.bytes()); break;
      default: break;  // file_version, graphs, session logs
    }
  }
  for (const std::string_view summary : summaries) {
    WireReader s(summary);
    while (s.next()) {
      if (s.field() != kSummaryValue) continue;
      RawValue raw = parse_value(s.bytes());
      if (raw.has_metadata) plugins[raw.tag] = raw.plugin;
      EventValue v;
      v.step = step;
      v.wall_time = wall_time;
      v.tag = raw.tag;
      if (raw.image) {
        v.kind = EventValue::Kind::kImage;
        parse_image(*raw.image, v);
      } else if (raw.tensor) {
        v.plugin = plugins[raw.tag];
        parse_tensor(*raw.tensor, v);
        v.kind = v.plugin == "text" ? EventValue::Kind::kText : EventValue::Kind::kTensor;
        if (v.kind == EventValue::Kind::kTensor) v.text.clear();
      } else if (raw.simple_value) {
        v.kind = EventValue::Kind::kScalar;
        v.scalar = *raw.simple_value;
      } else {
        continue;  // a kind we do not write
      }
      out.push_back(std::move(v));
    }
  }
}

uint64_t read_le(const std::string& bytes, size_t at, int n) {
  uint64_t v = 0;
  for (int i = n - 1; i >= 0; --i) v = (v << 8) | static_cast<uint8_t>(bytes[at + i]);
  return v;
}

// Far above any event file a run writes; the cap only bounds the read.
constexpr uint64_t kMaxEventFileBytes = 64ull << 30;

// Through the guarded user-file reader: a FIFO, device or folder planted under
// the event file's name is refused (DataError naming it) before any read, so
// the report never blocks on it; symbolic links to regular files are followed.
std::string slurp(const std::filesystem::path& file) {
  return data::io::read_user_file(file.string(), "event file", kMaxEventFileBytes);
}

}  // namespace

// TFRecord framing: uint64 length, masked CRC32C of those 8 bytes, payload,
// masked CRC32C of the payload (event_file_writer.cpp writes it).
std::vector<EventValue> read_event_file(const std::filesystem::path& file, std::string* cut_tail) {
  const std::string bytes = slurp(file);
  std::vector<EventValue> values;
  std::map<std::string, std::string> plugins;
  for (size_t at = 0; at < bytes.size();) {
    const auto fail = [&](const std::string& what) {
      return std::runtime_error(file.string() + ": record at byte " + std::to_string(at) + ": " + what);
    };
    const auto cut_short = [&](const std::string& what) {
      if (!cut_tail) throw fail("cut short (" + what + ")");
      *cut_tail = fail("cut short (" + what + "); the values before it were read").what();
    };
    const size_t left = bytes.size() - at;
    if (left < 12) {
      cut_short(std::to_string(left) + " bytes left, a record header needs 12");
      break;
    }
    const uint64_t length = read_le(bytes, at, 8);
    if (masked_crc32c(crc32c(bytes.data() + at, 8)) != read_le(bytes, at + 8, 4)) {
      throw fail("length CRC does not match");
    }
    if (left < 16 || length > left - 16) {
      cut_short("payload of " + std::to_string(length) + " bytes, " + std::to_string(left - 12) +
                " bytes follow the header, 4 more are needed for its CRC");
      break;
    }
    const std::string_view payload(bytes.data() + at + 12, length);
    if (masked_crc32c(crc32c(payload)) != read_le(bytes, at + 12 + length, 4)) {
      throw fail("payload CRC does not match");
    }
    try {
      parse_event(payload, plugins, values);
    } catch (const std::runtime_error& e) {
      throw fail(std::string("payload is not an Event (") + e.what() + ")");
    }
    at += 16 + length;
  }
  return values;
}

std::vector<EventValue> read_event_dir(const std::filesystem::path& dir, std::vector<std::string>* cut_tails) {
  std::vector<std::filesystem::path> files;
  std::error_code ec;
  if (!std::filesystem::is_directory(dir, ec)) return {};
  for (const auto& entry : std::filesystem::directory_iterator(dir)) {
    const std::string name = entry.path().filename().string();
    // Any kind of entry by that name: read_event_file refuses what is not a
    // regular file, rather than the report silently showing less.
    if (name.rfind("events.out.tfevents.", 0) == 0) files.push_back(entry.path());
  }
  std::sort(files.begin(), files.end());
  std::vector<EventValue> values;
  for (const auto& f : files) {
    std::string cut;
    auto more = read_event_file(f, cut_tails ? &cut : nullptr);
    if (!cut.empty()) cut_tails->push_back(cut);
    values.insert(values.end(), std::make_move_iterator(more.begin()), std::make_move_iterator(more.end()));
  }
  return values;
}

}  // namespace medtrain::metrics
