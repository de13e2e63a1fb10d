#include "data/deid/key_file.h"

#include <fmt/format.h>
#include <sys/stat.h>

#include <cerrno>
#include <cstring>

#include "data/data_error.h"
#include "data/io/user_file.h"

namespace medtrain::data::deid {

std::string read_key_file(const std::string& path) {
  const std::string shown = io::display_path(path);
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) {
    throw DataError(fmt::format("key file {}: {} (create one with: head -c 32 /dev/urandom > {} && chmod 600 {})", shown,
                                std::strerror(errno), shown, shown));
  }
  if (S_ISREG(st.st_mode) && (st.st_mode & 077) != 0) {
    throw DataError(fmt::format("key file {} is accessible by group/others (mode {:04o}); "
                                "a shared key lets others confirm patient identities: run chmod 600 {}",
                                shown, st.st_mode & 07777, shown));
  }
  // A FIFO, a device such as /dev/zero or a folder is refused before any read;
  // a regular file is read up to io::kMaxKeyBytes.
  std::string key = io::read_user_file(path, "key file", io::kMaxKeyBytes);
  if (key.size() < kMinKeyBytes) {
    throw DataError(fmt::format("key file {} holds {} bytes, need at least {} (make one with: head -c 32 /dev/urandom > {})",
                                shown, key.size(), kMinKeyBytes, shown));
  }
  return key;
}

}  // namespace medtrain::data::deid
