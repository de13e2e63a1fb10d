#pragma once
// Hand-written protobuf encoding of the few tensorflow.Event messages we emit,
// so that writing TensorBoard logs needs neither protobuf nor TensorFlow.
//
//   message Event   { double wall_time = 1; int64 step = 2;
//                     oneof what { string file_version = 3; Summary summary = 5; } }
//   message Summary { repeated Value value = 1; }
//   message Value   { string tag = 1; float simple_value = 2; }
//
// Field numbers and wire types are those of tensorflow/core/util/event.proto and
// tensorflow/core/framework/summary.proto.
#include <cstdint>
#include <string>

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

}  // namespace medtrain::metrics::detail
