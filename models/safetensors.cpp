// Our own safetensors reader and writer: the bytes are judged by
// parse_safetensors_layout (safetensors_header.cpp, where the rules and
// Note [Full coverage] are); this file turns the checked entries into tensors
// and writes files.
#include "models/safetensors.h"

#include <nlohmann/json.hpp>

#include <cstring>
#include <fstream>
#include <set>

#include <unistd.h>

#include "models/model_error.h"
#include "models/safetensors_header.h"

namespace medtrain::models {
namespace {

static_assert(__BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__,
              "safetensors data is little-endian; this reader copies bytes as-is");

constexpr const char* kMetadataKey = "__metadata__";

// The torch side of safetensors_dtype(): the same names, each with its ScalarType.
struct DtypeInfo {
  const char* name;
  at::ScalarType type;
};

constexpr DtypeInfo kDtypes[] = {
    {"F64", at::kDouble}, {"F32", at::kFloat}, {"F16", at::kHalf}, {"BF16", at::kBFloat16},
    {"I64", at::kLong},   {"I32", at::kInt},   {"I16", at::kShort}, {"I8", at::kChar},
    {"U8", at::kByte},    {"BOOL", at::kBool},
};

const DtypeInfo& dtype_of(at::ScalarType type, const std::string& tensor_name,
                         const std::string& target) {
  for (const auto& d : kDtypes) {
    if (d.type == type) return d;
  }
  throw ModelError(target + ": tensor \"" + tensor_name + "\" has dtype " +
                   std::string(c10::toString(type)) +
                   ", which safetensors files here cannot hold (supported: " +
                   safetensors_dtype_list() + ")");
}

at::ScalarType scalar_type(const SafetensorsDtype& dtype) {
  for (const auto& d : kDtypes) {
    if (std::strcmp(d.name, dtype.name) == 0) return d.type;
  }
  TORCH_INTERNAL_ASSERT(false, "safetensors dtype ", dtype.name, " is missing from kDtypes");
}

// `data` is the checked data buffer: the entry's range lies inside it.
at::Tensor copy_out(const SafetensorsEntry& e, const char* data) {
  at::Tensor t = at::empty(e.shape, at::TensorOptions().dtype(scalar_type(*e.dtype)));
  const uint64_t n = e.end - e.begin;
  if (n > 0) std::memcpy(t.data_ptr(), data + e.begin, n);
  return t;
}

// `target` prefixes the errors: "safetensors" or "safetensors file <path>".
std::string encode(const NamedTensors& tensors,
                   const std::map<std::string, std::string>& metadata,
                   const std::string& target) {
  // ordered_json keeps the header in data order, which makes files easy to read by eye.
  nlohmann::ordered_json header = nlohmann::ordered_json::object();
  if (!metadata.empty()) header[kMetadataKey] = metadata;
  std::vector<at::Tensor> data;
  data.reserve(tensors.size());
  std::set<std::string> names;
  uint64_t offset = 0;
  for (const auto& [name, tensor] : tensors) {
    if (name == kMetadataKey) throw ModelError(target + ": the tensor name \"__metadata__\" is reserved");
    if (!names.insert(name).second) throw ModelError(target + ": tensor name \"" + name + "\" appears twice");
    if (!tensor.defined()) throw ModelError(target + ": tensor \"" + name + "\" is undefined");
    const DtypeInfo& dtype = dtype_of(tensor.scalar_type(), name, target);
    at::Tensor cpu = tensor.to(at::kCPU).contiguous();
    const uint64_t nbytes = static_cast<uint64_t>(cpu.numel()) * cpu.element_size();
    header[name] = {{"dtype", dtype.name},
                    {"shape", cpu.sizes().vec()},
                    {"data_offsets", nlohmann::ordered_json::array({offset, offset + nbytes})}};
    offset += nbytes;
    data.push_back(std::move(cpu));
  }
  std::string json;
  try {
    json = header.dump();
  } catch (const nlohmann::json::exception& e) {  // e.g. a name that is not UTF-8
    throw ModelError(target + ": cannot encode the header: " + e.what());
  }
  json.append((8 - json.size() % 8) % 8, ' ');  // data starts 8-byte aligned, as the reference does
  std::string out;
  out.reserve(8 + json.size() + offset);
  const uint64_t n = json.size();
  for (int i = 0; i < 8; ++i) out.push_back(static_cast<char>((n >> (8 * i)) & 0xff));
  out += json;
  for (const auto& t : data) {
    out.append(static_cast<const char*>(t.data_ptr()), t.numel() * t.element_size());
  }
  return out;
}

}  // namespace

std::string safetensors_bytes(const NamedTensors& tensors,
                              const std::map<std::string, std::string>& metadata) {
  return encode(tensors, metadata, "safetensors");
}

void save_safetensors(const std::filesystem::path& path, const NamedTensors& tensors,
                      const std::map<std::string, std::string>& metadata) {
  const std::string bytes = encode(tensors, metadata, "safetensors file " + path.string());
  // Written under a temporary name and renamed, so that a reader never sees half
  // a file. (Checkpoints add fsync on top of this; see trainer/checkpoint.)
  std::filesystem::path tmp = path;
  tmp += ".tmp-" + std::to_string(::getpid());
  {
    std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
    out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
    out.close();
    if (!out) {
      std::error_code ignored;
      std::filesystem::remove(tmp, ignored);
      throw ModelError("cannot write safetensors file " + path.string() + ": " + std::strerror(errno));
    }
  }
  std::error_code ec;
  std::filesystem::rename(tmp, path, ec);
  if (ec) {
    std::filesystem::remove(tmp, ec);
    throw ModelError("cannot write safetensors file " + path.string() + ": " + ec.message());
  }
}

SafetensorsFile parse_safetensors(const std::string& bytes, const std::string& origin) {
  const SafetensorsLayout layout = parse_safetensors_layout(bytes.data(), bytes.size(), origin);
  SafetensorsFile out;
  out.metadata = layout.metadata;
  out.tensors.reserve(layout.entries.size());
  const char* data = bytes.data() + layout.data_offset;
  for (const auto& e : layout.entries) out.tensors.emplace_back(e.name, copy_out(e, data));
  return out;
}

SafetensorsFile load_safetensors(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary | std::ios::ate);
  if (!in) throw ModelError("cannot open safetensors file " + path.string() + ": " + std::strerror(errno));
  const std::streamoff size = in.tellg();
  std::string bytes(size > 0 ? static_cast<size_t>(size) : 0, '\0');
  in.seekg(0);
  if (size < 0 || !in.read(bytes.data(), static_cast<std::streamsize>(bytes.size()))) {
    throw ModelError("cannot read safetensors file " + path.string() + ": " + std::strerror(errno));
  }
  return parse_safetensors(bytes, path.string());
}

}  // namespace medtrain::models
