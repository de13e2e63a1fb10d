#include "trainer/checkpoint/atomic_file.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <system_error>
#include <utility>
#include <vector>

#include "trainer/checkpoint/checkpoint.h"

namespace medtrain::checkpoint {
namespace {

namespace fs = std::filesystem;

[[noreturn]] void fail(const std::string& action, const fs::path& path, int error) {
  throw CheckpointError("cannot " + action + " " + path.string() + ": " + std::strerror(error));
}

// Closes on scope exit unless released; close errors on the write path are
// checked explicitly (NFS reports some write errors only at close).
class Fd {
 public:
  explicit Fd(int fd) : fd_(fd) {}
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;
  ~Fd() {
    if (fd_ >= 0) ::close(fd_);
  }
  int get() const { return fd_; }
  int release() { return std::exchange(fd_, -1); }

 private:
  int fd_;
};

std::string pid_suffix() { return ".tmp-" + std::to_string(::getpid()); }

// `open_flags` add to O_WRONLY | O_CREAT | O_CLOEXEC.
void write_synced(const fs::path& path, std::string_view bytes, int open_flags) {
  Fd fd(::open(path.c_str(), O_WRONLY | O_CREAT | O_CLOEXEC | open_flags, 0644));
  if (fd.get() < 0) fail("create", path, errno);
  const char* p = bytes.data();
  size_t left = bytes.size();
  while (left > 0) {
    const ssize_t n = ::write(fd.get(), p, left);
    if (n < 0) {
      if (errno == EINTR) continue;
      fail("write", path, errno);
    }
    p += n;
    left -= static_cast<size_t>(n);
  }
  if (::fsync(fd.get()) != 0) fail("fsync", path, errno);
  if (::close(fd.release()) != 0) fail("close", path, errno);
}

}  // namespace

void write_file_synced(const fs::path& path, std::string_view bytes) { write_synced(path, bytes, O_TRUNC); }

void write_file_atomic(const fs::path& path, std::string_view bytes) {
  fs::path tmp = path;
  tmp += pid_suffix();
  // The temporary name is created afresh (O_EXCL | O_NOFOLLOW): a link or FIFO
  // planted under it fails the write instead of redirecting or blocking it.
  ::unlink(tmp.c_str());  // a leftover of an earlier crash of this pid; absent normally
  try {
    write_synced(tmp, bytes, O_EXCL | O_NOFOLLOW);
  } catch (...) {
    std::error_code ignored;
    fs::remove(tmp, ignored);
    throw;
  }
  if (::rename(tmp.c_str(), path.c_str()) != 0) {
    const int error = errno;
    std::error_code ignored;
    fs::remove(tmp, ignored);
    fail("rename " + tmp.string() + " to", path, error);
  }
  fsync_directory(path.has_parent_path() ? path.parent_path() : fs::path("."));
}

void fsync_directory(const fs::path& dir) {
  Fd fd(::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (fd.get() < 0) fail("open directory", dir, errno);
  // Some file systems refuse fsync on a directory (EINVAL); their renames are
  // then as durable as they can be made, so that is not an error.
  if (::fsync(fd.get()) != 0 && errno != EINVAL && errno != EROFS) fail("fsync directory", dir, errno);
}

void replace_symlink(const fs::path& link, const fs::path& target) {
  fs::path tmp = link;
  tmp += pid_suffix();
  ::unlink(tmp.c_str());  // a leftover of an earlier crash of this pid; absent normally
  if (::symlink(target.c_str(), tmp.c_str()) != 0) fail("create symlink", tmp, errno);
  if (::rename(tmp.c_str(), link.c_str()) != 0) {
    const int error = errno;
    ::unlink(tmp.c_str());
    fail("rename " + tmp.string() + " to", link, error);
  }
  fsync_directory(link.has_parent_path() ? link.parent_path() : fs::path("."));
}

std::string read_file(const fs::path& path) {
  // O_NONBLOCK and the regular-file check: a FIFO or /dev/zero planted as a
  // checkpoint file must fail at once, not block or read without end.
  Fd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NONBLOCK));
  if (fd.get() < 0) fail("open", path, errno);
  struct stat st {};
  if (::fstat(fd.get(), &st) != 0) fail("stat", path, errno);
  if (!S_ISREG(st.st_mode)) throw CheckpointError(path.string() + ": not a regular file");
  std::string out;
  out.reserve(static_cast<size_t>(st.st_size));
  char buffer[1 << 16];
  while (true) {
    const ssize_t n = ::read(fd.get(), buffer, sizeof buffer);
    if (n < 0) {
      if (errno == EINTR) continue;
      fail("read", path, errno);
    }
    if (n == 0) break;
    out.append(buffer, static_cast<size_t>(n));
  }
  return out;
}

}  // namespace medtrain::checkpoint
