#include "data/shard/shard_reader.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>

#include "data/data_error.h"
#include "data/io/read_retry.h"
#include "data/io/user_file.h"
#include "data/shard/crc32c.h"

namespace medtrain::data::shard {
namespace {

// ESTALE, told apart so that the reader reopens (Note [Stale shard handle]).
class StaleHandle : public io::TransientReadError {
 public:
  using io::TransientReadError::TransientReadError;
};

// Reads exactly `size` bytes at `offset`, retrying short reads; false at EOF.
bool pread_full(int fd, uint8_t* out, size_t size, uint64_t offset, const std::string& path) {
  while (size > 0) {
    const ssize_t n = ::pread(fd, out, size, static_cast<off_t>(offset));
    if (n < 0) {
      const int err = errno;
      if (err == EINTR) continue;
      const std::string what = io::display_path(path) + ": read at offset " + std::to_string(offset) + " failed";
      if (err == ESTALE) throw StaleHandle(what + ": " + std::strerror(err));
      io::throw_read_error(err, what);
    }
    if (n == 0) return false;
    out += n;
    size -= static_cast<size_t>(n);
    offset += static_cast<uint64_t>(n);
  }
  return true;
}

}  // namespace

ShardReader::ShardReader(std::string path) : path_(std::move(path)) {
  // O_NONBLOCK: a FIFO in place of a shard must not block open(); it is refused below.
  const int fd = ::open(path_.c_str(), O_RDONLY | O_CLOEXEC | O_NONBLOCK);
  fd_.store(fd);
  if (fd < 0) throw DataError(io::display_path(path_) + ": cannot open shard: " + std::strerror(errno));
  try {
    struct stat st {};
    if (::fstat(fd, &st) != 0) {
      throw DataError(io::display_path(path_) + ": cannot stat shard: " + std::strerror(errno));
    }
    if (!S_ISREG(st.st_mode)) throw DataError(io::display_path(path_) + ": not a regular file, expected a shard");
    file_size_ = static_cast<uint64_t>(st.st_size);
    ::posix_fadvise(fd, 0, 0, POSIX_FADV_SEQUENTIAL);
    if (file_size_ < kFooterBytes) index_bytes_from_footer(nullptr, file_size_, path_);  // throws "truncated"
    uint8_t footer[kFooterBytes];
    if (!pread_full(fd, footer, kFooterBytes, file_size_ - kFooterBytes, path_)) {
      throw DataError(io::display_path(path_) + ": truncated while reading the index footer");
    }
    const uint64_t tail = index_bytes_from_footer(footer, file_size_, path_);
    std::vector<uint8_t> bytes(tail);
    if (!pread_full(fd, bytes.data(), tail, file_size_ - tail, path_)) {
      throw DataError(io::display_path(path_) + ": truncated while reading the index");
    }
    index_ = decode_index(bytes.data(), bytes.size(), file_size_, path_);
    char magic[sizeof(kShardMagic)];
    if (!pread_full(fd, reinterpret_cast<uint8_t*>(magic), sizeof magic, 0, path_) ||
        std::memcmp(magic, kShardMagic, sizeof magic) != 0) {
      throw DataError(io::display_path(path_) + ": not a medtrain shard (bad magic at offset 0)");
    }
  } catch (...) {
    ::close(fd);
    throw;
  }
}

ShardReader::~ShardReader() {
  ::close(fd_.load());
  for (int fd : retired_fds_) ::close(fd);
}

// Note [Stale shard handle]: after a NAS fail-over every read on the old
// descriptor fails with ESTALE, and a client that once showed the file ending
// early may keep doing so on that descriptor; only a new open helps. Other
// threads may be in a pread on the old descriptor right now, so it is not
// closed (its number could be reused under them) but retired until the reader
// goes. At most kMaxRetiredFds are kept: a shard that really is truncated
// would otherwise cost a descriptor per retry.
void ShardReader::reopen_instead_of(int old_fd) const {
  constexpr size_t kMaxRetiredFds = 16;
  std::lock_guard<std::mutex> lock(reopen_mu_);
  if (fd_.load() != old_fd || retired_fds_.size() >= kMaxRetiredFds) return;  // reopened already / enough
  const int fresh = ::open(path_.c_str(), O_RDONLY | O_CLOEXEC | O_NONBLOCK);
  if (fresh < 0) return;  // the retry reads the old one again and says why
  retired_fds_.push_back(old_fd);
  fd_.store(fresh);
}

bool ShardReader::pread_at(int fd, uint8_t* out, size_t size, uint64_t offset) const {
  try {
    return pread_full(fd, out, size, offset, path_);
  } catch (const StaleHandle&) {
    reopen_instead_of(fd);
    throw;
  }
}

std::string ShardReader::where(size_t i) const {
  return io::display_path(path_) + ": record " + std::to_string(i) + " at offset " +
         std::to_string(index_.at(i).offset);
}

Block ShardReader::read_block(size_t first, size_t count) const {
  if (count == 0 || first + count > index_.size()) {
    throw DataError(io::display_path(path_) + ": records [" + std::to_string(first) + ", " +
                    std::to_string(first + count) + ") outside the shard's " + std::to_string(index_.size()));
  }
  // Records are written back to back, but only the index is trusted: the block
  // spans from the lowest start to the highest end of the entries asked for.
  uint64_t begin = UINT64_MAX, end = 0;
  for (size_t i = first; i < first + count; ++i) {
    begin = std::min(begin, index_[i].offset);
    end = std::max(end, index_[i].offset + index_[i].length);
  }
  Block b;
  b.first = first;
  b.count = count;
  b.offset = begin;
  b.bytes.resize(end - begin);
  const int fd = fd_.load();
  if (!pread_at(fd, b.bytes.data(), b.bytes.size(), begin)) {
    // Transient: a FUSE/NFS client may show the file ending early for a while,
    // and for as long as this descriptor lives, so the retry reads a new one
    // (Note [Transient reads], Note [Stale shard handle]); a shard that really
    // is truncated fails the same way on every retry.
    reopen_instead_of(fd);
    throw io::TransientReadError(io::display_path(path_) + ": file ends before offset " + std::to_string(end) +
                                 " that its index names (record " + std::to_string(first + count - 1) +
                                 "); the shard is truncated");
  }
  return b;
}

const uint8_t* ShardReader::checked_record(const Block& b, size_t i) const {
  if (i < b.first || i >= b.first + b.count) throw DataError(where(i) + ": not in the block read");
  const IndexEntry& e = index_[i];
  const uint8_t* p = b.bytes.data() + (e.offset - b.offset);
  const uint32_t crc = crc32c(p, e.length);
  if (crc != e.crc32c) {
    char buf[64];
    std::snprintf(buf, sizeof buf, "checksum mismatch (crc32c %08x, index says %08x)", crc, e.crc32c);
    throw DataError(where(i) + ": " + buf + "; the shard is corrupt, re-run `medtrain pack` or restore it");
  }
  return p;
}

Record ShardReader::read_record(size_t i) const {
  const Block b = read_block(i, 1);
  const uint8_t* p = checked_record(b, i);
  return decode_record(p, index_[i].length, where(i));
}

void ShardReader::prefetch(size_t first, size_t count) const {
  if (first >= index_.size() || count == 0) return;
  const size_t last = std::min(index_.size(), first + count) - 1;
  const uint64_t begin = index_[first].offset;
  const uint64_t end = index_[last].offset + index_[last].length;
  if (end > begin) ::posix_fadvise(fd_.load(), static_cast<off_t>(begin), static_cast<off_t>(end - begin), POSIX_FADV_WILLNEED);
}

}  // namespace medtrain::data::shard
