// The safetensors layout check. The validation rules follow the reference
// implementation (huggingface/safetensors, safetensors/src/tensor.rs):
//   - the first 8 bytes are the header length N (little-endian u64); N above
//     100,000,000 is rejected (MAX_HEADER_SIZE), as is N past the end of file;
//   - the header is UTF-8 JSON: an object of name -> {dtype, shape,
//     data_offsets} plus an optional "__metadata__" object of string -> string;
//   - Note [Full coverage]: sorted by data_offsets, the tensors must tile the
//     data buffer exactly: the first begins at 0, each begins where the previous
//     one ended, and the last ends at the end of the file. So gaps, overlaps and
//     trailing bytes are all errors (Metadata::validate returns InvalidOffset,
//     and read_metadata MetadataIncompleteBuffer when the end is not the file's).
//   - each tensor's byte length must equal numel * itemsize, computed without
//     overflow (ValidationOverflow).
// We add: duplicate names are rejected (the reference keeps the last silently),
// and BOOL bytes must be 0 or 1 (any other byte is not a valid torch bool).
#include "models/safetensors_header.h"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <limits>
#include <set>
#include <tuple>

#include "models/model_error.h"

namespace medtrain::models {
namespace {

constexpr uint64_t kMaxHeaderBytes = 100'000'000;  // the reference's MAX_HEADER_SIZE
constexpr const char* kMetadataKey = "__metadata__";

constexpr SafetensorsDtype kDtypes[] = {
    {"F64", 8}, {"F32", 4}, {"F16", 2}, {"BF16", 2}, {"I64", 8},
    {"I32", 4}, {"I16", 2}, {"I8", 1},  {"U8", 1},   {"BOOL", 1},
};

std::string shape_string(const std::vector<int64_t>& shape) {
  std::string out = "[";
  for (size_t i = 0; i < shape.size(); ++i) out += (i ? ", " : "") + std::to_string(shape[i]);
  return out + "]";
}

using Entry = SafetensorsEntry;

class HeaderReader {
 public:
  explicit HeaderReader(const std::string& origin) : origin_(origin) {}

  [[noreturn]] void fail(const std::string& problem) const {
    throw ModelError("safetensors file " + origin_ + ": " + problem);
  }
  [[noreturn]] void fail_tensor(const std::string& name, const std::string& problem) const {
    fail("tensor \"" + name + "\": " + problem);
  }

  nlohmann::json parse_json(const char* begin, const char* end) const;
  std::map<std::string, std::string> parse_metadata(const nlohmann::json& value) const;
  Entry parse_entry(const std::string& name, const nlohmann::json& value,
                    uint64_t data_bytes) const;
  void check_layout(std::vector<Entry>& entries, uint64_t data_bytes) const;

 private:
  uint64_t unsigned_field(const std::string& name, const char* field,
                          const nlohmann::json& v) const;
  std::string origin_;
};

nlohmann::json HeaderReader::parse_json(const char* begin, const char* end) const {
  // nlohmann keeps the last of duplicate keys silently; a callback sees every
  // top-level key so that a duplicated tensor name is an error instead.
  std::set<std::string> seen;
  std::string duplicate;
  auto on_event = [&](int depth, nlohmann::json::parse_event_t event, nlohmann::json& parsed) {
    if (event == nlohmann::json::parse_event_t::key && depth == 1 && duplicate.empty() &&
        !seen.insert(parsed.get<std::string>()).second) {
      duplicate = parsed.get<std::string>();
    }
    return true;
  };
  nlohmann::json header;
  try {
    header = nlohmann::json::parse(begin, end, on_event);
  } catch (const nlohmann::json::exception& e) {
    fail(std::string("header is not valid JSON (") + e.what() + ")");
  }
  if (!header.is_object()) fail("header is not a JSON object but " + std::string(header.type_name()));
  if (!duplicate.empty()) fail("header names \"" + duplicate + "\" more than once");
  return header;
}

std::map<std::string, std::string> HeaderReader::parse_metadata(const nlohmann::json& value) const {
  std::map<std::string, std::string> out;
  if (value.is_null()) return out;  // the reference reads it as an Option
  if (!value.is_object()) fail("\"__metadata__\" is not an object of strings");
  for (const auto& [key, v] : value.items()) {
    if (!v.is_string()) {
      fail("\"__metadata__\" value of \"" + key + "\" is not a string but " + v.type_name());
    }
    out[key] = v.get<std::string>();
  }
  return out;
}

uint64_t HeaderReader::unsigned_field(const std::string& name, const char* field,
                                      const nlohmann::json& v) const {
  if (v.is_number_unsigned()) return v.get<uint64_t>();
  if (v.is_number_integer()) fail_tensor(name, std::string(field) + " holds a negative value " + v.dump());
  fail_tensor(name, std::string(field) + " holds " + v.dump() + ", not a non-negative integer");
}

Entry HeaderReader::parse_entry(const std::string& name, const nlohmann::json& value,
                                uint64_t data_bytes) const {
  if (!value.is_object()) fail_tensor(name, "entry is not an object");
  for (const char* field : {"dtype", "shape", "data_offsets"}) {
    if (!value.contains(field)) fail_tensor(name, std::string("missing field \"") + field + "\"");
  }
  Entry e;
  e.name = name;
  const auto& dtype = value.at("dtype");
  if (!dtype.is_string()) fail_tensor(name, "\"dtype\" is not a string");
  e.dtype = safetensors_dtype(dtype.get<std::string>());
  if (e.dtype == nullptr) {
    fail_tensor(name, "unknown or unsupported dtype \"" + dtype.get<std::string>() +
                          "\" (supported: " + safetensors_dtype_list() + ")");
  }
  const auto& shape = value.at("shape");
  if (!shape.is_array()) fail_tensor(name, "\"shape\" is not an array");
  uint64_t numel = 1;
  for (const auto& d : shape) {
    uint64_t dim = unsigned_field(name, "\"shape\"", d);
    if (dim > static_cast<uint64_t>(std::numeric_limits<int64_t>::max()) ||
        __builtin_mul_overflow(numel, dim, &numel)) {
      fail_tensor(name, "shape " + shape.dump() + " overflows the element count");
    }
    e.shape.push_back(static_cast<int64_t>(dim));
  }
  uint64_t nbytes = 0;
  if (__builtin_mul_overflow(numel, e.dtype->itemsize, &nbytes)) {
    fail_tensor(name, "shape " + shape.dump() + " overflows the byte count");
  }
  const auto& offsets = value.at("data_offsets");
  if (!offsets.is_array() || offsets.size() != 2) {
    fail_tensor(name, "\"data_offsets\" is not [begin, end]: " + offsets.dump());
  }
  e.begin = unsigned_field(name, "\"data_offsets\"", offsets[0]);
  e.end = unsigned_field(name, "\"data_offsets\"", offsets[1]);
  const std::string range = "data_offsets [" + std::to_string(e.begin) + ", " + std::to_string(e.end) + "]";
  if (e.begin > e.end) fail_tensor(name, range + " has begin > end");
  if (e.end > data_bytes) {
    fail_tensor(name, range + " runs past the end of the data buffer (" +
                          std::to_string(data_bytes) + " bytes; file truncated?)");
  }
  if (e.end - e.begin != nbytes) {
    fail_tensor(name, range + " holds " + std::to_string(e.end - e.begin) + " bytes but " +
                          e.dtype->name + " " + shape_string(e.shape) + " needs " +
                          std::to_string(nbytes));
  }
  return e;
}

// See Note [Full coverage] at the top of the file.
void HeaderReader::check_layout(std::vector<Entry>& entries, uint64_t data_bytes) const {
  std::sort(entries.begin(), entries.end(), [](const Entry& a, const Entry& b) {
    return std::tie(a.begin, a.end, a.name) < std::tie(b.begin, b.end, b.name);
  });
  uint64_t covered = 0;
  const Entry* previous = nullptr;
  for (const auto& e : entries) {
    if (e.begin < covered) {
      fail_tensor(e.name, "bytes [" + std::to_string(e.begin) + ", " + std::to_string(e.end) +
                              ") overlap tensor \"" + previous->name + "\"");
    }
    if (e.begin > covered) {
      fail_tensor(e.name, "gap of " + std::to_string(e.begin - covered) +
                              " bytes before its data at offset " + std::to_string(e.begin) +
                              " (safetensors requires tensors to cover the data buffer contiguously)");
    }
    covered = e.end;
    previous = &e;
  }
  if (covered != data_bytes) {
    fail(std::to_string(data_bytes - covered) + " trailing bytes after the last tensor (data buffer " +
         std::to_string(data_bytes) + " bytes, tensors cover " + std::to_string(covered) + ")");
  }
}

// Any byte of a BOOL tensor other than 0 or 1 is not a valid torch bool.
void check_bool_bytes(const Entry& e, const char* data, const HeaderReader& reader) {
  const char* src = data + e.begin;
  const char* end = data + e.end;
  const auto* bad = std::find_if(src, end, [](char c) { return c != 0 && c != 1; });
  if (bad != end) {
    reader.fail_tensor(e.name, "BOOL byte " + std::to_string(static_cast<unsigned char>(*bad)) +
                                   " at element " + std::to_string(bad - src) + " is neither 0 nor 1");
  }
}

}  // namespace

const SafetensorsDtype* safetensors_dtype(std::string_view name) {
  for (const auto& d : kDtypes) {
    if (name == d.name) return &d;
  }
  return nullptr;
}

std::string safetensors_dtype_list() {
  std::string out;
  for (const auto& d : kDtypes) out += (out.empty() ? "" : " ") + std::string(d.name);
  return out;
}

SafetensorsLayout parse_safetensors_layout(const char* bytes, size_t size, const std::string& origin) {
  HeaderReader reader(origin);
  if (size < 8) {
    reader.fail("file is " + std::to_string(size) +
                " bytes, shorter than the 8-byte header length; not a safetensors file");
  }
  uint64_t n = 0;
  for (int i = 0; i < 8; ++i) n |= static_cast<uint64_t>(static_cast<unsigned char>(bytes[i])) << (8 * i);
  if (n > kMaxHeaderBytes) {
    reader.fail("header length " + std::to_string(n) + " is absurdly large (limit " +
                std::to_string(kMaxHeaderBytes) + " bytes); not a safetensors file?");
  }
  if (n > size - 8) {
    reader.fail("header length " + std::to_string(n) + " runs past the end of the file (" +
                std::to_string(size) + " bytes; truncated?)");
  }
  const nlohmann::json header = reader.parse_json(bytes + 8, bytes + 8 + n);
  const uint64_t data_bytes = size - 8 - n;
  SafetensorsLayout out;
  out.data_offset = 8 + n;
  for (const auto& [name, value] : header.items()) {
    if (name == kMetadataKey) {
      out.metadata = reader.parse_metadata(value);
    } else {
      out.entries.push_back(reader.parse_entry(name, value, data_bytes));
    }
  }
  reader.check_layout(out.entries, data_bytes);
  for (const auto& e : out.entries) {
    if (std::string_view(e.dtype->name) == "BOOL") check_bool_bytes(e, bytes + out.data_offset, reader);
  }
  return out;
}

}  // namespace medtrain::models
