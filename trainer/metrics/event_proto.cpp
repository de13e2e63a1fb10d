#include "trainer/metrics/event_proto.h"

#include <cstring>

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
  std::string summary;
  put_bytes_field(summary, kSummaryValue, summary_value);

  std::string event;
  put_double_field(event, kEventWallTime, wall_time);
  put_int64_field(event, kEventStep, step);
  put_bytes_field(event, kEventSummary, summary);
  return event;
}

}  // namespace medtrain::metrics::detail
