#include "data/deid/key_file.h"

#include <fmt/format.h>
#include <sys/stat.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <iterator>

#include "data/data_error.h"

namespace medtrain::data::deid {

std::string read_key_file(const std::string& path) {
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) {
    throw DataError(fmt::format("key file {}: {} (create one with: head -c 32 /dev/urandom > {} && chmod 600 {})", path,
                                std::strerror(errno), path, path));
  }
  if (!S_ISREG(st.st_mode)) throw DataError(fmt::format("key file {}: not a regular file", path));
  if ((st.st_mode & 077) != 0) {
    throw DataError(fmt::format("key file {} is accessible by group/others (mode {:04o}); "
                                "a shared key lets others confirm patient identities: run chmod 600 {}",
                                path, st.st_mode & 07777, path));
  }
  std::ifstream in(path, std::ios::binary);
  if (!in) throw DataError(fmt::format("key file {}: cannot read: {}", path, std::strerror(errno)));
  std::string key((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  if (key.size() < kMinKeyBytes) {
    throw DataError(fmt::format("key file {} holds {} bytes, need at least {} (make one with: head -c 32 /dev/urandom > {})",
                                path, key.size(), kMinKeyBytes, path));
  }
  return key;
}

}  // namespace medtrain::data::deid
