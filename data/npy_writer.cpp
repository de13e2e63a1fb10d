#include "data/npy_writer.h"

#include <cerrno>
#include <cstring>
#include <fstream>

#include "data/data_error.h"

namespace medtrain::data {

namespace {

void write_npy(const std::string& path, const std::string& descr, const void* values, size_t value_bytes,
               const std::vector<int64_t>& shape) {
  const uint32_t probe = 1;
  if (*reinterpret_cast<const uint8_t*>(&probe) != 1) throw DataError(path + ": .npy writer needs a little-endian host");
  int64_t count = 1;
  for (const int64_t d : shape) count *= d;
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  if (!out) throw DataError(path + ": cannot write .npy file: " + std::strerror(errno));
  const std::string header = npy_header(descr, shape);
  out.write(header.data(), static_cast<std::streamsize>(header.size()));
  out.write(static_cast<const char*>(values), static_cast<std::streamsize>(count * value_bytes));
  out.close();
  if (!out) throw DataError(path + ": writing the .npy file failed (disk full?)");
}

}  // namespace

std::string npy_header(const std::string& descr, const std::vector<int64_t>& shape) {
  std::string dims;
  for (const int64_t d : shape) dims += std::to_string(d) + ", ";
  if (shape.size() > 1) dims.erase(dims.size() - 2);  // "(3, 4)"; one dimension keeps "(3,)"
  if (shape.size() == 1) dims.pop_back();
  std::string dict = "{'descr': '" + descr + "', 'fortran_order': False, 'shape': (" + dims + "), }";
  const size_t prefix = 10;  // magic 6 + version 2 + header length 2
  const size_t total = (prefix + dict.size() + 1 + 63) / 64 * 64;
  dict.append(total - prefix - dict.size() - 1, ' ');
  dict += '\n';
  std::string header = std::string("\x93NUMPY", 6) + '\x01' + '\x00';
  header += static_cast<char>(dict.size() & 0xff);
  header += static_cast<char>((dict.size() >> 8) & 0xff);
  return header + dict;
}

void write_npy_f32(const std::string& path, const float* values, const std::vector<int64_t>& shape) {
  static_assert(sizeof(float) == 4, "float32 expected");
  write_npy(path, "<f4", values, sizeof(float), shape);
}

void write_npy_u8(const std::string& path, const uint8_t* values, const std::vector<int64_t>& shape) {
  write_npy(path, "|u1", values, 1, shape);
}

}  // namespace medtrain::data
