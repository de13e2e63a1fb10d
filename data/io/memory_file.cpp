#include "data/io/memory_file.h"

#include <sys/mman.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "data/data_error.h"

namespace medtrain::data::io {

MemoryFile::MemoryFile(std::string_view bytes, const std::string& what_for) {
  fd_ = ::memfd_create("medtrain", MFD_CLOEXEC);
  if (fd_ < 0) throw DataError(what_for + ": cannot hold the file in memory (memfd_create: " + std::strerror(errno) + ")");
  size_t done = 0;
  while (done < bytes.size()) {
    const ssize_t n = ::write(fd_, bytes.data() + done, bytes.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      const int err = n < 0 ? errno : ENOSPC;
      ::close(fd_);
      throw DataError(what_for + ": cannot hold the file in memory (" + std::strerror(err) + ")");
    }
    done += static_cast<size_t>(n);
  }
  path_ = "/proc/self/fd/" + std::to_string(fd_);
}

MemoryFile::~MemoryFile() {
  if (fd_ >= 0) ::close(fd_);
}

MemoryFile::MemoryFile(MemoryFile&& other) noexcept : fd_(other.fd_), path_(std::move(other.path_)) {
  other.fd_ = -1;
}

}  // namespace medtrain::data::io
