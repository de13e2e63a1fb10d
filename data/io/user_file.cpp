#include "data/io/user_file.h"

#include <fcntl.h>
#include <fmt/format.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "data/data_error.h"
#include "data/io/read_retry.h"

namespace medtrain::data::io {
namespace {

constexpr size_t kShownBytes = 160;

const char* kind_of(mode_t mode) {
  if (S_ISDIR(mode)) return "a folder";
  if (S_ISFIFO(mode)) return "a FIFO";
  if (S_ISCHR(mode)) return "a character device";
  if (S_ISBLK(mode)) return "a block device";
  if (S_ISSOCK(mode)) return "a socket";
  return "not a regular file";
}

// Opens without blocking (O_NONBLOCK: a FIFO with no writer would otherwise
// block open() itself) and checks the kind on the open descriptor, so the file
// checked is the file read.
int open_regular(const std::string& path, const std::string& what, uint64_t max_bytes, uint64_t& size) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_NONBLOCK | O_CLOEXEC);
  if (fd < 0) {
    const int err = errno;
    if (is_transient_errno(err)) throw_read_error(err, fmt::format("{} {}: cannot open", what, display_path(path)));
    throw DataError(fmt::format("{} {}: {}", what, display_path(path),
                                err == ENOENT ? "does not exist" : std::strerror(err)));
  }
  struct stat st {};
  if (::fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
    const mode_t mode = st.st_mode;
    ::close(fd);
    throw DataError(fmt::format("{} {}: {}, expected a regular file", what, display_path(path), kind_of(mode)));
  }
  size = static_cast<uint64_t>(st.st_size);
  if (size > max_bytes) {
    ::close(fd);
    throw DataError(fmt::format("{} {}: {} bytes, more than the {} allowed for this kind of file", what,
                                display_path(path), size, max_bytes));
  }
  return fd;
}

}  // namespace

std::string display_path(const std::string& path) {
  std::string shown = path.size() <= kShownBytes
                          ? path
                          : path.substr(0, kShownBytes / 2 - 2) + "..." + path.substr(path.size() - kShownBytes / 2 + 1);
  for (char& c : shown) {
    if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) c = '?';
  }
  return shown;
}

uint64_t check_regular_file(const std::string& path, const std::string& what, uint64_t max_bytes) {
  uint64_t size = 0;
  ::close(open_regular(path, what, max_bytes, size));
  return size;
}

std::string read_user_file(const std::string& path, const std::string& what, uint64_t max_bytes) {
  uint64_t size = 0;
  const int fd = open_regular(path, what, max_bytes, size);
  std::string bytes;
  bytes.reserve(static_cast<size_t>(size));
  char buf[1 << 16];
  while (true) {
    const ssize_t n = ::read(fd, buf, sizeof(buf));
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      const int err = errno;
      ::close(fd);
      throw_read_error(err, fmt::format("{} {}: cannot read", what, display_path(path)));  // Note [Transient reads]
    }
    if (n == 0) break;
    bytes.append(buf, static_cast<size_t>(n));
    if (bytes.size() > max_bytes) {
      ::close(fd);
      throw DataError(fmt::format("{} {}: grew past the {} bytes allowed while being read", what, display_path(path),
                                  max_bytes));
    }
  }
  ::close(fd);
  if (bytes.size() < size) {  // a FUSE/NFS client that shows the file ending early: Note [Transient reads]
    throw TransientReadError(fmt::format("{} {}: short read: {} of its {} bytes", what, display_path(path),
                                         bytes.size(), size));
  }
  return bytes;
}

void check_path_component(const std::string& name, const std::string& what) {
  const char* problem = nullptr;
  if (name.empty()) {
    problem = "is empty";
  } else if (name == "." || name == "..") {
    problem = "is not a name";
  } else if (name.size() > 255) {
    problem = "is longer than 255 bytes";
  } else if (name.find('/') != std::string::npos) {
    problem = "must be one folder name, without '/'";
  } else {
    for (char c : name) {
      if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) problem = "holds a control character";
    }
  }
  if (problem) throw DataError(fmt::format("{} \"{}\" {}", what, display_path(name), problem));
}

}  // namespace medtrain::data::io
