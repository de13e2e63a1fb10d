#include "trainer/metrics/event_proto.h"

#include <cstring>
#include <stdexcept>

namespace medtrain::metrics::detail {
namespace {

enum WireType : uint32_t { kVarint = 0, kFixed64 = 1, kLengthDelimited = 2, kFixed32 = 5 };

void put_key(std::string& out, int field, WireType type) {
  put_varint(out, (static_cast<uint64_t>(field) << 3) | type);
}

// Event / Summary / Value field numbers (see the header).
constexpr int kEventWallTime = 1;
constexpr int kEventStep = 2;
constexpr int kEventFileVersion = 3;
constexpr int kEventSummary = 5;
constexpr int kSummaryValue = 1;
constexpr int kValueTag = 1;
constexpr int kValueSimpleValue = 2;
constexpr int kValueImage = 4;
constexpr int kValueTensor = 8;
constexpr int kValueMetadata = 9;
constexpr int kImageHeight = 1;
constexpr int kImageWidth = 2;
constexpr int kImageColorspace = 3;
constexpr int kImageEncoded = 4;
constexpr int kMetadataPluginData = 1;
constexpr int kPluginName = 1;
constexpr int kPluginContent = 2;
constexpr int kTensorDtype = 1;
constexpr int kTensorShape = 2;
constexpr int kTensorContent = 4;
constexpr int kTensorStringVal = 8;
constexpr int kShapeDim = 2;
constexpr int kDimSize = 1;
constexpr int kPrCurveNumThresholds = 2;

// Event{wall_time, step, summary{value}}: the frame around every summary value.
std::string wrap_summary_value(double wall_time, int64_t step, const std::string& summary_value) {
  std::string summary;
  put_bytes_field(summary, kSummaryValue, summary_value);
  std::string event;
  put_double_field(event, kEventWallTime, wall_time);
  put_int64_field(event, kEventStep, step);
  put_bytes_field(event, kEventSummary, summary);
  return event;
}

std::string encode_shape(const std::vector<int64_t>& shape) {
  std::string out;
  for (const int64_t size : shape) {
    std::string dim;
    put_int64_field(dim, kDimSize, size);
    put_bytes_field(out, kShapeDim, dim);
  }
  return out;
}

}  // namespace

void put_varint(std::string& out, uint64_t value) {
  while (value >= 0x80) {
    out.push_back(static_cast<char>((value & 0x7F) | 0x80));
    value >>= 7;
  }
  out.push_back(static_cast<char>(value));
}

void put_fixed32(std::string& out, uint32_t value) {
  for (int i = 0; i < 4; ++i) out.push_back(static_cast<char>((value >> (8 * i)) & 0xFF));
}

void put_fixed64(std::string& out, uint64_t value) {
  for (int i = 0; i < 8; ++i) out.push_back(static_cast<char>((value >> (8 * i)) & 0xFF));
}

void put_double_field(std::string& out, int field, double value) {
  uint64_t bits = 0;
  static_assert(sizeof(bits) == sizeof(value));
  std::memcpy(&bits, &value, sizeof(bits));
  put_key(out, field, kFixed64);
  put_fixed64(out, bits);
}

void put_float_field(std::string& out, int field, float value) {
  uint32_t bits = 0;
  static_assert(sizeof(bits) == sizeof(value));
  std::memcpy(&bits, &value, sizeof(bits));
  put_key(out, field, kFixed32);
  put_fixed32(out, bits);
}

void put_int64_field(std::string& out, int field, int64_t value) {
  // int64 (not sint64): negative values are their two's complement, 10 bytes.
  put_key(out, field, kVarint);
  put_varint(out, static_cast<uint64_t>(value));
}

void put_bytes_field(std::string& out, int field, const std::string& bytes) {
  put_key(out, field, kLengthDelimited);
  put_varint(out, bytes.size());
  out += bytes;
}

std::string encode_file_version_event(double wall_time, const std::string& version) {
  std::string event;
  put_double_field(event, kEventWallTime, wall_time);
  put_bytes_field(event, kEventFileVersion, version);
  return event;
}

std::string encode_scalar_event(double wall_time, int64_t step, const std::string& tag,
                                float value) {
  std::string summary_value;
  put_bytes_field(summary_value, kValueTag, tag);
  put_float_field(summary_value, kValueSimpleValue, value);
  return wrap_summary_value(wall_time, step, summary_value);
}

std::string encode_image_event(double wall_time, int64_t step, const std::string& tag, int64_t height,
                               int64_t width, int colorspace, const std::string& png) {
  std::string image;
  put_int64_field(image, kImageHeight, height);
  put_int64_field(image, kImageWidth, width);
  put_int64_field(image, kImageColorspace, colorspace);
  put_bytes_field(image, kImageEncoded, png);
  std::string summary_value;
  put_bytes_field(summary_value, kValueTag, tag);
  put_bytes_field(summary_value, kValueImage, image);
  return wrap_summary_value(wall_time, step, summary_value);
}

std::string encode_string_tensor(const std::string& value) {
  std::string tensor;
  put_int64_field(tensor, kTensorDtype, kDtString);
  put_bytes_field(tensor, kTensorShape, encode_shape({}));  // present and empty: a scalar
  put_bytes_field(tensor, kTensorStringVal, value);
  return tensor;
}

std::string encode_float_tensor(const std::vector<int64_t>& shape, const std::vector<float>& values) {
  std::string content;
  content.reserve(values.size() * sizeof(float));
  for (const float v : values) {
    uint32_t bits = 0;
    std::memcpy(&bits, &v, sizeof(bits));
    put_fixed32(content, bits);
  }
  std::string tensor;
  put_int64_field(tensor, kTensorDtype, kDtFloat);
  put_bytes_field(tensor, kTensorShape, encode_shape(shape));
  put_bytes_field(tensor, kTensorContent, content);
  return tensor;
}

std::string encode_plugin_metadata(const std::string& plugin_name, const std::string& content) {
  std::string plugin_data;
  put_bytes_field(plugin_data, kPluginName, plugin_name);
  if (!content.empty()) put_bytes_field(plugin_data, kPluginContent, content);
  std::string metadata;
  put_bytes_field(metadata, kMetadataPluginData, plugin_data);
  return metadata;
}

std::string encode_pr_curve_plugin_data(int64_t num_thresholds) {
  std::string data;
  put_int64_field(data, kPrCurveNumThresholds, num_thresholds);
  return data;
}

std::string encode_tensor_event(double wall_time, int64_t step, const std::string& tag,
                                const std::string& tensor, const std::string& metadata) {
  std::string summary_value;
  put_bytes_field(summary_value, kValueTag, tag);
  put_bytes_field(summary_value, kValueMetadata, metadata);
  put_bytes_field(summary_value, kValueTensor, tensor);
  return wrap_summary_value(wall_time, step, summary_value);
}

uint64_t WireReader::read_varint() {
  uint64_t value = 0;
  for (int shift = 0; shift < 64; shift += 7) {
    if (at_ >= bytes_.size()) throw std::runtime_error("varint cut short");
    const auto byte = static_cast<uint8_t>(bytes_[at_++]);
    value |= static_cast<uint64_t>(byte & 0x7F) << shift;
    if ((byte & 0x80) == 0) return value;
  }
  throw std::runtime_error("varint longer than 10 bytes");
}

bool WireReader::next() {
  if (at_ >= bytes_.size()) return false;
  const uint64_t key = read_varint();
  field_ = static_cast<int>(key >> 3);
  wire_ = static_cast<uint32_t>(key & 7);
  if (field_ == 0) throw std::runtime_error("field number 0");
  const size_t left = bytes_.size() - at_;
  switch (wire_) {
    case kVarint:
      scalar_ = read_varint();
      return true;
    case kFixed64:
    case kFixed32: {
      const size_t n = wire_ == kFixed64 ? 8 : 4;
      if (left < n) throw std::runtime_error("fixed-width field " + std::to_string(field_) + " cut short");
      scalar_ = 0;
      for (size_t i = 0; i < n; ++i) scalar_ |= static_cast<uint64_t>(static_cast<uint8_t>(bytes_[at_ + i])) << (8 * i);
      at_ += n;
      return true;
    }
    case kLengthDelimited: {
      const uint64_t n = read_varint();
      if (n > bytes_.size() - at_) {
        throw std::runtime_error("field " + std::to_string(field_) + " claims " + std::to_string(n) +
                                 " bytes, " + std::to_string(bytes_.size() - at_) + " left");
      }
      view_ = bytes_.substr(at_, n);
      at_ += n;
      return true;
    }
    default:
      throw std::runtime_error("field " + std::to_string(field_) + " has wire type " + std::to_string(wire_));
  }
}

void WireReader::expect(uint32_t wire, const char* what) const {
  if (wire_ != wire) {
    throw std::runtime_error("field " + std::to_string(field_) + " has wire type " + std::to_string(wire_) +
                             ", expected " + what);
  }
}

uint64_t WireReader::varint() const {
  expect(kVarint, "a varint");
  return scalar_;
}

double WireReader::as_double() const {
  expect(kFixed64, "a double");
  double v = 0;
  std::memcpy(&v, &scalar_, sizeof(v));
  return v;
}

float WireReader::as_float() const {
  expect(kFixed32, "a float");
  const auto bits = static_cast<uint32_t>(scalar_);
  float v = 0;
  std::memcpy(&v, &bits, sizeof(v));
  return v;
}

std::string_view WireReader::bytes() const {
  expect(kLengthDelimited, "bytes");
  return view_;
}

}  // namespace medtrain::metrics::detail
