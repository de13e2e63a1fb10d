#pragma once
// The FUSE operations of nasfs: a passthrough of a backing folder in which
// every request pays the link's latency (see link_model.h) and may be hit by a
// fault from the control file (see fault_control.h). Read-only unless
// --writable; the write side lives in nasfs_write_ops.cpp.
#define FUSE_USE_VERSION 35
#include <fuse.h>

#include <atomic>
#include <memory>
#include <string>

#include "tests/tools/nasfs/fault_control.h"
#include "tests/tools/nasfs/link_model.h"

namespace nasfs {

// Reached from every operation through fuse_get_context()->private_data.
struct NasState {
  std::string source;  // absolute path of the backing folder, no trailing slash
  LinkModel link;
  bool writable = false;
  std::unique_ptr<FaultControl> faults;  // null: no --faults
};

// One open file, behind fuse_file_info::fh.
struct OpenFile {
  int fd;
  // Where the file ends for this handle after a `short` fault; -1 = its real
  // end. See Note [Short reads] in nasfs_ops.cpp.
  std::atomic<long long> ends_at{-1};
  explicit OpenFile(int f) : fd(f) {}
};

// Read operations (getattr, readdir, open, read, release, readlink, statfs);
// writable adds the write side (add_write_operations below); without it,
// writes fail with EROFS.
const fuse_operations& nas_operations(bool writable);

namespace detail {

NasState& state();
std::string backing(const char* path);
OpenFile& open_file(const fuse_file_info* fi);
// Whether fi carries one of our open files: the kernel also passes the handle
// of a directory (fh 0: nasfs has no opendir), e.g. to fchmod; those use the path.
inline bool has_file(const fuse_file_info* fi) { return fi != nullptr && fi->fh != 0; }
// Consults the fault control for one request: 0 = go on (after sleeping out a
// hang), or -errno to return. *short_read (may be null) is set for `short`.
int inject(FaultOp op, const char* op_name, const char* path, bool* short_read = nullptr);
// Fills in the write side of ops (nasfs_write_ops.cpp).
void add_write_operations(fuse_operations& ops);

}  // namespace detail

}  // namespace nasfs
