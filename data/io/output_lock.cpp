#include "data/io/output_lock.h"

#include <fcntl.h>
#include <fmt/format.h>
#include <sys/file.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <system_error>

#include "data/data_error.h"
#include "data/io/user_file.h"

namespace fs = std::filesystem;

namespace medtrain::data::io {
namespace {

std::string read_holder(int fd) {
  char buf[128] = {};
  const ssize_t n = ::pread(fd, buf, sizeof(buf) - 1, 0);
  std::string s = n > 0 ? std::string(buf, static_cast<size_t>(n)) : std::string();
  while (!s.empty() && (s.back() == '\n' || s.back() == ' ')) s.pop_back();
  return s.empty() ? "another process" : s;
}

}  // namespace

OutputLock::OutputLock(const std::string& dir, const std::string& command)
    : OutputLock(dir, command, kLockFileName) {}

OutputLock::OutputLock(const std::string& dir, const std::string& command, const std::string& lock_name) {
  std::error_code ec;
  fs::create_directories(dir, ec);
  if (ec || !fs::is_directory(dir)) {
    throw DataError(fmt::format("output folder {}: cannot create it: {}", display_path(dir),
                                ec ? ec.message() : "a file of that name exists"));
  }
  const std::string path = (fs::path(dir) / lock_name).string();
  fd_ = ::open(path.c_str(), O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0644);
  if (fd_ < 0) {
    const int err = errno;
    throw DataError(fmt::format("output folder {}: cannot create its lock file {}: {}", display_path(dir),
                                lock_name, err == ELOOP ? "it is a symbolic link" : std::strerror(err)));
  }
  if (::flock(fd_, LOCK_EX | LOCK_NB) != 0) {
    const std::string holder = read_holder(fd_);
    ::close(fd_);
    fd_ = -1;
    throw DataError(fmt::format("output folder {} is in use by {}; wait for it to end or choose another folder",
                                display_path(dir), holder));
  }
  const std::string me = fmt::format("medtrain {} (pid {})\n", command, ::getpid());
  if (::ftruncate(fd_, 0) != 0 || ::pwrite(fd_, me.data(), me.size(), 0) != static_cast<ssize_t>(me.size())) {
    // The lock is held; only the holder's description is missing. Not worth failing for.
  }
}

OutputLock::~OutputLock() {
  if (fd_ >= 0) ::close(fd_);  // releases the flock
}

}  // namespace medtrain::data::io
