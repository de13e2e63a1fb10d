#pragma once
// Reads one shard file (shard_format.h): the index once at open, then records
// by byte range. Several consecutive records come back from ONE pread (a
// Block), because on an NFS NAS each request costs about a millisecond while
// bandwidth is plentiful; posix_fadvise tells the kernel the file is read
// sequentially and which range comes next. Torch-free (the fuzzer builds it).
//
// Thread-safe: all methods are const and use pread on a descriptor that is
// never moved, so any number of threads may read concurrently.
#include <atomic>
#include <cstdint>
#include <mutex>
#include <string>
#include <vector>

#include "data/shard/shard_format.h"

namespace medtrain::data::shard {

struct Block {
  size_t first = 0;              // record index of bytes[0]
  size_t count = 0;              // records held
  uint64_t offset = 0;           // file offset of bytes[0]
  std::vector<uint8_t> bytes;
};

class ShardReader {
 public:
  // Opens `path` and reads its index. Throws DataError naming the file:
  // missing, truncated, foreign, corrupt index, an entry past the records' end.
  explicit ShardReader(std::string path);
  ~ShardReader();
  ShardReader(const ShardReader&) = delete;
  ShardReader& operator=(const ShardReader&) = delete;

  const std::string& path() const { return path_; }
  size_t size() const { return index_.size(); }
  uint64_t file_size() const { return file_size_; }
  const IndexEntry& entry(size_t i) const { return index_.at(i); }

  // Records [first, first + count) in one read. Throws io::TransientReadError
  // (data/io/read_retry.h) when the read fails with EIO, ESTALE (the descriptor
  // is reopened for the next call: Note [Stale shard handle]) or EAGAIN, or the
  // file seems shorter than its index says (naming file and offset).
  Block read_block(size_t first, size_t count) const;
  // Record i's bytes inside `block`, checksum verified: throws DataError
  // "<file>: record <i> at offset <o>: checksum mismatch ...".
  const uint8_t* checked_record(const Block& block, size_t i) const;
  // read_block(i, 1) + checked_record + decode_record.
  Record read_record(size_t i) const;
  // Hints the kernel to start reading records [first, first + count) now.
  void prefetch(size_t first, size_t count) const;
  std::string where(size_t i) const;  // "<file>: record <i> at offset <o>"

 private:
  bool pread_at(int fd, uint8_t* out, size_t size, uint64_t offset) const;  // reopens after ESTALE
  void reopen_instead_of(int old_fd) const;

  std::string path_;
  mutable std::atomic<int> fd_{-1};
  mutable std::mutex reopen_mu_;
  mutable std::vector<int> retired_fds_;  // Note [Stale shard handle]
  uint64_t file_size_ = 0;
  std::vector<IndexEntry> index_;
};

}  // namespace medtrain::data::shard
