#include "data/io/write_beneath.h"

#include <fcntl.h>
#include <fmt/format.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <vector>

#include "data/data_error.h"
#include "data/io/user_file.h"

namespace medtrain::data::io {
namespace {

std::vector<std::string> components(const std::string& rel, const std::string& root) {
  std::vector<std::string> parts;
  size_t start = 0;
  while (start <= rel.size()) {
    const size_t slash = rel.find('/', start);
    const std::string part = rel.substr(start, slash == std::string::npos ? std::string::npos : slash - start);
    if (!part.empty()) {
      if (part == "." || part == "..") {
        throw DataError(fmt::format("{}: \"{}\" would leave the output folder {}", display_path(rel), part,
                                    display_path(root)));
      }
      parts.push_back(part);
    }
    if (slash == std::string::npos) break;
    start = slash + 1;
  }
  return parts;
}

[[noreturn]] void refuse(const std::string& root, const std::string& shown, int err) {
  if (err == ELOOP || err == ENOTDIR) {
    throw DataError(fmt::format("{}/{}: is a symbolic link or not a folder inside the output folder; medtrain "
                                "never writes through links (remove it)",
                                display_path(root), display_path(shown)));
  }
  throw DataError(fmt::format("{}/{}: {}", display_path(root), display_path(shown), std::strerror(err)));
}

// An O_PATH-free descriptor of root/parts[0..n) (each created if missing).
int open_dirs(const std::string& root, const std::vector<std::string>& parts, size_t n) {
  int fd = ::open(root.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) throw DataError(fmt::format("output folder {}: {}", display_path(root), std::strerror(errno)));
  std::string shown;
  for (size_t i = 0; i < n; ++i) {
    shown += (i ? "/" : "") + parts[i];
    if (::mkdirat(fd, parts[i].c_str(), 0755) != 0 && errno != EEXIST) {
      const int err = errno;
      ::close(fd);
      refuse(root, shown, err);
    }
    const int next = ::openat(fd, parts[i].c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    const int err = errno;
    ::close(fd);
    if (next < 0) refuse(root, shown, err);
    fd = next;
  }
  return fd;
}

}  // namespace

void make_dirs_beneath(const std::string& root, const std::string& rel_dir) {
  const auto parts = components(rel_dir, root);
  ::close(open_dirs(root, parts, parts.size()));
}

int open_dir_beneath(const std::string& root, const std::string& rel_dir) {
  const auto parts = components(rel_dir, root);
  return open_dirs(root, parts, parts.size());
}

int open_beneath(const std::string& root, const std::string& rel_file, int flags, int mode) {
  const auto parts = components(rel_file, root);
  if (parts.empty()) throw DataError(fmt::format("{}: no file name below {}", display_path(rel_file), root));
  const int dir = open_dirs(root, parts, parts.size() - 1);
  const int fd = ::openat(dir, parts.back().c_str(), O_WRONLY | O_CLOEXEC | O_NOFOLLOW | flags, mode);
  const int err = errno;
  ::close(dir);
  if (fd < 0) refuse(root, rel_file, err);
  return fd;
}

}  // namespace medtrain::data::io
