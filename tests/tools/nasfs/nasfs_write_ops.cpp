// The write side of nasfs (--writable): a passthrough of create, write,
// truncate, fallocate, fsync, rename, unlink, mkdir, rmdir, symlink, chmod,
// chown and utimens, so that run, checkpoint and export folders can live on
// the emulated NAS. Each request pays the link's latency (written bytes share
// its bandwidth) and may be hit by a fault: OP write covers write, truncate
// and fallocate; create, fsync and rename have their own OP; the rest are
// reached by OP any only.
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>

#include "tests/tools/nasfs/nasfs_ops.h"

namespace nasfs::detail {

namespace {

int nas_create(const char* path, mode_t mode, fuse_file_info* fi) {
  if (const int rc = inject(FaultOp::kCreate, "create", path)) return rc;
  state().link.request();
  const int fd = open(backing(path).c_str(), fi->flags | O_CREAT, mode);
  if (fd < 0) return -errno;
  fi->fh = reinterpret_cast<uint64_t>(new OpenFile(fd));
  fi->direct_io = 1;  // no client cache, as for reads (see nasfs_ops.cpp)
  return 0;
}

int nas_write(const char* path, const char* buf, size_t size, off_t offset, fuse_file_info* fi) {
  if (const int rc = inject(FaultOp::kWrite, "write", path)) return rc;
  NasState& s = state();
  s.link.request();
  size_t done = 0;
  while (done < size) {
    const ssize_t n = pwrite(open_file(fi).fd, buf + done, size - done, offset + static_cast<off_t>(done));
    if (n < 0) {
      if (errno == EINTR) continue;
      return -errno;
    }
    done += static_cast<size_t>(n);
  }
  s.link.transfer(done);
  return static_cast<int>(done);
}

int nas_truncate(const char* path, off_t size, fuse_file_info* fi) {
  if (const int rc = inject(FaultOp::kWrite, "truncate", path)) return rc;
  state().link.request();
  const int rc = has_file(fi) ? ftruncate(open_file(fi).fd, size) : truncate(backing(path).c_str(), size);
  return rc == 0 ? 0 : -errno;
}

int nas_fallocate(const char* path, int mode, off_t offset, off_t length, fuse_file_info* fi) {
  if (const int rc = inject(FaultOp::kWrite, "fallocate", path)) return rc;
  state().link.request();
  return fallocate(open_file(fi).fd, mode, offset, length) == 0 ? 0 : -errno;
}

int nas_fsync(const char* path, int datasync, fuse_file_info* fi) {
  if (const int rc = inject(FaultOp::kFsync, "fsync", path)) return rc;
  state().link.request();
  const int fd = open_file(fi).fd;
  return (datasync ? fdatasync(fd) : fsync(fd)) == 0 ? 0 : -errno;
}

int nas_rename(const char* from, const char* to, unsigned int flags) {
  if (const int rc = inject(FaultOp::kRename, "rename", from)) return rc;
  state().link.request();
  const int rc = flags == 0 ? rename(backing(from).c_str(), backing(to).c_str())
                            : renameat2(AT_FDCWD, backing(from).c_str(), AT_FDCWD, backing(to).c_str(), flags);
  return rc == 0 ? 0 : -errno;
}

int nas_unlink(const char* path) {
  if (const int rc = inject(FaultOp::kOther, "unlink", path)) return rc;
  state().link.request();
  return unlink(backing(path).c_str()) == 0 ? 0 : -errno;
}

int nas_mkdir(const char* path, mode_t mode) {
  if (const int rc = inject(FaultOp::kOther, "mkdir", path)) return rc;
  state().link.request();
  return mkdir(backing(path).c_str(), mode) == 0 ? 0 : -errno;
}

int nas_rmdir(const char* path) {
  if (const int rc = inject(FaultOp::kOther, "rmdir", path)) return rc;
  state().link.request();
  return rmdir(backing(path).c_str()) == 0 ? 0 : -errno;
}

// target is stored as given, like any symlink; path is the new link.
int nas_symlink(const char* target, const char* path) {
  if (const int rc = inject(FaultOp::kOther, "symlink", path)) return rc;
  state().link.request();
  return symlink(target, backing(path).c_str()) == 0 ? 0 : -errno;
}

int nas_chmod(const char* path, mode_t mode, fuse_file_info* fi) {
  if (const int rc = inject(FaultOp::kOther, "chmod", path)) return rc;
  state().link.request();
  const int rc = has_file(fi) ? fchmod(open_file(fi).fd, mode) : chmod(backing(path).c_str(), mode);
  return rc == 0 ? 0 : -errno;
}

int nas_chown(const char* path, uid_t uid, gid_t gid, fuse_file_info* fi) {
  if (const int rc = inject(FaultOp::kOther, "chown", path)) return rc;
  state().link.request();
  const int rc = has_file(fi) ? fchown(open_file(fi).fd, uid, gid) : lchown(backing(path).c_str(), uid, gid);
  return rc == 0 ? 0 : -errno;
}

int nas_utimens(const char* path, const timespec tv[2], fuse_file_info* fi) {
  if (const int rc = inject(FaultOp::kOther, "utimens", path)) return rc;
  state().link.request();
  const int rc = has_file(fi) ? futimens(open_file(fi).fd, tv) : utimensat(AT_FDCWD, backing(path).c_str(), tv, AT_SYMLINK_NOFOLLOW);
  return rc == 0 ? 0 : -errno;
}

}  // namespace

void add_write_operations(fuse_operations& ops) {
  ops.create = nas_create;
  ops.write = nas_write;
  ops.truncate = nas_truncate;
  ops.fallocate = nas_fallocate;
  ops.fsync = nas_fsync;
  ops.rename = nas_rename;
  ops.unlink = nas_unlink;
  ops.mkdir = nas_mkdir;
  ops.rmdir = nas_rmdir;
  ops.symlink = nas_symlink;
  ops.chmod = nas_chmod;
  ops.chown = nas_chown;
  ops.utimens = nas_utimens;
}

}  // namespace nasfs::detail
