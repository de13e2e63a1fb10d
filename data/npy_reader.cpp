#include "data/npy_reader.h"

#include <cerrno>
#include <cmath>
#include <cstring>
#include <fstream>
#include <iterator>
#include <regex>
#include <vector>

#include "data/data_error.h"
#include "data/io/user_file.h"

namespace medtrain::data {
namespace {

struct Header {
  std::string descr;
  bool fortran = false;
  std::vector<int64_t> shape;
  size_t data_offset = 0;
};

std::string field(const std::string& dict, const std::string& key, const std::string& pattern,
                  const std::string& path) {
  const std::regex re("'" + key + "'\\s*:\\s*(" + pattern + ")");
  std::smatch m;
  if (!std::regex_search(dict, m, re)) {
    throw DataError(io::display_path(path) + ": .npy header has no valid '" + key + "': " + dict);
  }
  return m[1].str();
}

Header parse_header(const std::string& bytes, const std::string& path) {
  if (bytes.size() < 10 || bytes.compare(0, 6, "\x93NUMPY", 6) != 0) {
    throw DataError(io::display_path(path) + ": not a .npy file (no \\x93NUMPY magic)");
  }
  const auto major = static_cast<uint8_t>(bytes[6]);
  const size_t len_bytes = major == 1 ? 2 : 4;
  if (major < 1 || major > 3 || bytes.size() < 8 + len_bytes) {
    throw DataError(io::display_path(path) + ": unsupported .npy version");
  }
  size_t len = 0;
  for (size_t i = 0; i < len_bytes; ++i) len |= static_cast<size_t>(static_cast<uint8_t>(bytes[8 + i])) << (8 * i);
  Header h;
  h.data_offset = 8 + len_bytes + len;
  if (h.data_offset > bytes.size()) {
    throw DataError(io::display_path(path) + ": .npy header runs past the end of the file");
  }
  const std::string dict = bytes.substr(8 + len_bytes, len);
  h.descr = field(dict, "descr", "'[^']*'", path);
  h.descr = h.descr.substr(1, h.descr.size() - 2);
  h.fortran = field(dict, "fortran_order", "True|False", path) == "True";
  const std::string shape = field(dict, "shape", "\\([0-9,\\s]*\\)", path);
  const std::regex num("[0-9]+");
  for (auto it = std::sregex_iterator(shape.begin(), shape.end(), num); it != std::sregex_iterator(); ++it) {
    const std::string d = it->str();
    if (d.size() > 9) throw DataError(io::display_path(path) + ": .npy dimension " + d + " is too large");
    h.shape.push_back(std::stoll(d));
  }
  return h;
}

template <typename T>
void convert(const char* src, int64_t n, int64_t* dst, const std::string& path) {
  for (int64_t i = 0; i < n; ++i) {
    T v;
    std::memcpy(&v, src + i * sizeof(T), sizeof(T));
    if constexpr (std::is_floating_point_v<T>) {
      if (!std::isfinite(v) || v != std::floor(v) || std::fabs(v) > 9.0e15) {
        throw DataError(io::display_path(path) + ": .npy value " + std::to_string(v) + " at element " +
                        std::to_string(i) + " is not a whole number (a mask holds class indices)");
      }
    }
    dst[i] = static_cast<int64_t>(v);
  }
}

}  // namespace

torch::Tensor read_npy_as_int64(const std::string& path) {
  // Guarded: a FIFO or device named as a mask fails instead of blocking.
  const std::string bytes = io::read_user_file(path, ".npy file", io::kMaxDicomBytes);
  const Header h = parse_header(bytes, path);
  if (h.fortran) {
    throw DataError(io::display_path(path) +
                    ": .npy in Fortran order is not supported (save with np.ascontiguousarray)");
  }
  int64_t count = 1;
  for (const int64_t d : h.shape) {
    if (d > 0 && count > (int64_t{1} << 40) / d) throw DataError(io::display_path(path) + ": .npy shape is too large");
    count *= d;
  }
  using Conv = void (*)(const char*, int64_t, int64_t*, const std::string&);
  struct Type { const char* descr; size_t size; Conv conv; };
  static const Type types[] = {
      {"|u1", 1, convert<uint8_t>},  {"|b1", 1, convert<uint8_t>},  {"|i1", 1, convert<int8_t>},
      {"<u2", 2, convert<uint16_t>}, {"<i2", 2, convert<int16_t>},  {"<u4", 4, convert<uint32_t>},
      {"<i4", 4, convert<int32_t>},  {"<i8", 8, convert<int64_t>},  {"<f4", 4, convert<float>},
      {"<f8", 8, convert<double>}};
  for (const Type& t : types) {
    if (h.descr != t.descr) continue;
    const size_t need = static_cast<size_t>(count) * t.size;
    if (bytes.size() - h.data_offset < need) {
      throw DataError(io::display_path(path) + ": .npy data is truncated: shape needs " + std::to_string(need) +
                      " bytes, file has " + std::to_string(bytes.size() - h.data_offset));
    }
    torch::Tensor out = torch::empty(h.shape, torch::kInt64);
    t.conv(bytes.data() + h.data_offset, count, out.data_ptr<int64_t>(), path);
    return out;
  }
  throw DataError(io::display_path(path) + ": .npy dtype '" + h.descr +
                  "' is not supported (integer, bool, float32 or float64, little-endian)");
}

}  // namespace medtrain::data
