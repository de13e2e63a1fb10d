#pragma once
// Hand-written protobuf encoding of the few tensorflow.Event messages we emit,
// so that writing TensorBoard logs needs neither protobuf nor TensorFlow.
//
//   message Event   { double wall_time = 1; int64 step = 2;
//                     oneof what { string file_version = 3; Summary summary = 5; } }
//   message Summary { repeated Value value = 1; }
//   message Value   { string tag = 1; float simple_value = 2; Image image = 4;
//                     TensorProto tensor = 8; SummaryMetadata metadata = 9; }
//   message Image   { int32 height = 1; int32 width = 2; int32 colorspace = 3;
//                     bytes encoded_image_string = 4; }
//   message SummaryMetadata { PluginData plugin_data = 1; }
//   message PluginData      { string plugin_name = 1; bytes content = 2; }
//   message TensorProto     { DataType dtype = 1; TensorShapeProto tensor_shape = 2;
//                             bytes tensor_content = 4; repeated float float_val = 5;
//                             repeated bytes string_val = 8; }
//   message TensorShapeProto { repeated Dim dim = 2; }   message Dim { int64 size = 1; }
//   message PrCurvePluginData { int32 version = 1; uint32 num_thresholds = 2; }
//
// Field numbers and wire types are those of tensorflow/core/util/event.proto,
// tensorflow/core/framework/{summary,tensor,tensor_shape,types}.proto and
// tensorboard/plugins/pr_curve/plugin_data.proto (checked against the pip
// tensorboard package's compiled descriptors). event_file_reader.cpp decodes
// the same fields.
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace medtrain::metrics::detail {

// Protobuf wire primitives, appended to `out`.
void put_varint(std::string& out, uint64_t value);
void put_fixed32(std::string& out, uint32_t value);  // little-endian
void put_fixed64(std::string& out, uint64_t value);  // little-endian
void put_double_field(std::string& out, int field, double value);
void put_float_field(std::string& out, int field, float value);
void put_int64_field(std::string& out, int field, int64_t value);
void put_bytes_field(std::string& out, int field, const std::string& bytes);

// The first record of every event file: Event{wall_time, file_version}.
std::string encode_file_version_event(double wall_time, const std::string& version);

// Event{wall_time, step, summary{value{tag, simple_value}}}.
std::string encode_scalar_event(double wall_time, int64_t step, const std::string& tag,
                                float value);

// tensorflow.DataType values.
constexpr int kDtFloat = 1;
constexpr int kDtString = 7;

// Event{wall_time, step, summary{value{tag, image{height, width, colorspace,
// png}}}}. colorspace: 1 gray, 2 gray+alpha, 3 RGB, 4 RGBA (the channel count).
std::string encode_image_event(double wall_time, int64_t step, const std::string& tag, int64_t height,
                               int64_t width, int colorspace, const std::string& png);

// TensorProto{DT_STRING, shape [] (a scalar), string_val: value}.
std::string encode_string_tensor(const std::string& value);

// TensorProto{DT_FLOAT, shape, tensor_content: the values as little-endian
// float32}, the layout tf.make_tensor_proto gives a numpy array.
std::string encode_float_tensor(const std::vector<int64_t>& shape, const std::vector<float>& values);

// SummaryMetadata{plugin_data{plugin_name, content}}.
std::string encode_plugin_metadata(const std::string& plugin_name, const std::string& content);

// PrCurvePluginData{version 0, num_thresholds} (version 0 is proto3's default
// and so absent from the bytes, as protobuf itself writes it).
std::string encode_pr_curve_plugin_data(int64_t num_thresholds);

// Event{wall_time, step, summary{value{tag, metadata, tensor}}}; tensor and
// metadata are encoded messages.
std::string encode_tensor_event(double wall_time, int64_t step, const std::string& tag,
                                const std::string& tensor, const std::string& metadata);

// Walks the fields of one encoded message (the reading side of the put_*
// functions above). Unknown fields are skipped by ignoring them; groups
// (wire types 3 and 4, unused by these protos) are malformed. Every malformed
// input throws std::runtime_error saying what is wrong, never reads past the
// bytes.
class WireReader {
 public:
  explicit WireReader(std::string_view bytes) : bytes_(bytes) {}
  // Reads the next field's key and value; false at the end of the message.
  bool next();
  int field() const { return field_; }
  // The current field's value. Each throws when the wire type differs.
  uint64_t varint() const;              // wire type 0
  double as_double() const;             // wire type 1
  float as_float() const;               // wire type 5
  std::string_view bytes() const;       // wire type 2 (strings, bytes, messages, packed)
  bool is_bytes() const { return wire_ == 2; }

 private:
  uint64_t read_varint();
  void expect(uint32_t wire, const char* what) const;

  std::string_view bytes_;
  size_t at_ = 0;
  int field_ = 0;
  uint32_t wire_ = 0;
  uint64_t scalar_ = 0;  // varint, or the bits of a fixed32/fixed64
  std::string_view view_;
};

}  // namespace medtrain::metrics::detail
