#include "data/shard/durable_file.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <vector>

#include "data/data_error.h"

namespace medtrain::data::shard {
namespace {

[[noreturn]] void fail(const std::string& what, const std::string& path) {
  throw DataError(what + " " + path + ": " + std::strerror(errno));
}

void fsync_dir(const std::string& file) {
  std::string dir = std::filesystem::path(file).parent_path().string();
  if (dir.empty()) dir = ".";
  const int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) fail("cannot open folder", dir);
  ::fsync(fd);  // some file systems refuse fsync on folders; the rename already happened
  ::close(fd);
}

}  // namespace

void write_all(int fd, const char* p, size_t n, const std::string& path) {
  while (n > 0) {
    const ssize_t w = ::write(fd, p, n);
    if (w < 0) {
      if (errno == EINTR) continue;
      fail("cannot write", path);
    }
    p += w;
    n -= static_cast<size_t>(w);
  }
}

std::string temp_name(const std::string& path) { return path + ".tmp"; }

void write_file_atomic(const std::string& path, std::string_view bytes) {
  const std::string tmp = temp_name(path);
  const int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) fail("cannot create", tmp);
  write_all(fd, bytes.data(), bytes.size(), tmp);
  if (::fsync(fd) != 0) {
    ::close(fd);
    fail("cannot fsync", tmp);
  }
  ::close(fd);
  commit_temp(path);
}

void commit_temp(const std::string& path) { commit_temp(temp_name(path), path); }

void commit_temp(const std::string& tmp, const std::string& path) {
  if (std::rename(tmp.c_str(), path.c_str()) != 0) fail("cannot rename " + tmp + " to", path);
  fsync_dir(path);
}

}  // namespace medtrain::data::shard
