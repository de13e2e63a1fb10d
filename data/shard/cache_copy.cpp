#include "data/shard/cache_copy.h"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <vector>

#include "data/data_error.h"
#include "data/shard/durable_file.h"

namespace medtrain::data::shard {
namespace {

[[noreturn]] void fail(const std::string& what, const std::string& path) {
  throw DataError(what + " " + path + ": " + std::strerror(errno));
}

// Closes both descriptors and deletes the temp file unless released: every way
// out of a copy but success leaves nothing behind.
class TempGuard {
 public:
  TempGuard(std::string path, int in, int out) : path_(std::move(path)), in_(in), out_(out) {}
  ~TempGuard() {
    if (in_ >= 0) ::close(in_);
    if (out_ >= 0) ::close(out_);
    if (!released_) ::unlink(path_.c_str());
  }
  void close_input() {
    ::close(in_);
    in_ = -1;
  }
  int close_output() {
    const int rc = ::close(out_);
    out_ = -1;
    return rc;
  }
  void release() { released_ = true; }

 private:
  std::string path_;
  int in_, out_;
  bool released_ = false;
};

}  // namespace

std::string copy_to_unique_temp(const std::string& from, const std::string& to, uint64_t chunk_bytes,
                                const std::atomic<bool>& stopping,
                                const std::function<void(const CopyProgress&)>& progress) {
  static std::atomic<uint64_t> counter{0};
  const int in = ::open(from.c_str(), O_RDONLY | O_CLOEXEC);
  if (in < 0) fail("cannot open", from);
  const std::string tmp = temp_name(to) + "-" + std::to_string(::getpid()) + "-" + std::to_string(counter++);
  const int out = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
  if (out < 0) {
    const int err = errno;
    ::close(in);
    errno = err;
    fail("cannot create", tmp);
  }
  TempGuard guard(tmp, in, out);
  ::posix_fadvise(in, 0, 0, POSIX_FADV_SEQUENTIAL);
  std::vector<char> buf(std::max<uint64_t>(chunk_bytes, 4096));  // large requests: the source is usually the NAS
  uint64_t copied = 0;
  for (;;) {
    const ssize_t n = ::read(in, buf.data(), buf.size());
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) fail("cannot read", from);
    if (n == 0) break;
    write_all(out, buf.data(), static_cast<size_t>(n), tmp);
    copied += static_cast<uint64_t>(n);
    if (progress) progress(CopyProgress{tmp, copied, stopping});
    if (stopping.load()) return "";
  }
  guard.close_input();
  if (::fsync(out) != 0) fail("cannot fsync", tmp);
  if (guard.close_output() != 0) fail("cannot close", tmp);
  if (stopping.load()) return "";
  guard.release();
  return tmp;
}

}  // namespace medtrain::data::shard
