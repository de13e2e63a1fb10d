#include "tests/tools/nasfs/nasfs_ops.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <thread>

namespace nasfs {

namespace detail {

NasState& state() { return *static_cast<NasState*>(fuse_get_context()->private_data); }

std::string backing(const char* path) { return state().source + path; }

OpenFile& open_file(const fuse_file_info* fi) { return *reinterpret_cast<OpenFile*>(fi->fh); }

int inject(FaultOp op, const char* op_name, const char* path, bool* short_read) {
  NasState& s = state();
  if (!s.faults) return 0;
  const auto hit = s.faults->check(op, op_name, path);
  if (!hit) return 0;
  switch (hit->kind) {
    case FaultKind::kEio:
      return -EIO;
    case FaultKind::kEstale:
      return -ESTALE;
    case FaultKind::kEnospc:
      return -ENOSPC;
    case FaultKind::kShort:
      if (short_read != nullptr) *short_read = true;
      return 0;
    case FaultKind::kHang:
      std::this_thread::sleep_for(std::chrono::duration<double>(hit->hang_s));
      return 0;
  }
  return 0;
}

}  // namespace detail

namespace {

using detail::backing;
using detail::has_file;
using detail::inject;
using detail::open_file;
using detail::state;

// Write permission bits are shown only where writes are accepted.
void show_mode(struct stat* st) {
  if (!state().writable) st->st_mode &= ~(S_IWUSR | S_IWGRP | S_IWOTH);
}

void* nas_init(fuse_conn_info* conn, fuse_config* cfg) {
  // Note [No client cache]: an NFS client revalidates; here we go further and
  // cache no data and no attributes, so that a repeated read pays the NAS
  // again, like a cold read would. direct_io bypasses the page cache for file
  // data; a zero attr timeout makes every stat ask the server.
  // Note [First lookups]: names are cached for 60 s, as an NFS client caches
  // directory entries (acdirmax). On the 6.18 kernel of our VMs the FUSE client
  // was seen to send the first LOOKUP of each new name in one folder one at a
  // time (LOOKUPs of different folders, and all other requests, overlap), so
  // the first touch of N files in one folder costs N latencies in a row; later
  // touches pay only open/getattr/read, in parallel. Benchmarks that care
  // walk the tree once first, or spread files over folders (as DICOM trees are).
  cfg->direct_io = 1;
  cfg->kernel_cache = 0;
  cfg->auto_cache = 0;
  cfg->attr_timeout = 0;
  cfg->entry_timeout = 60;  // see Note [First lookups]
  cfg->negative_timeout = 0;
  cfg->use_ino = 1;
  // Let the kernel keep many requests in flight (large direct reads are split
  // into max_read-sized requests that FUSE sends asynchronously), as NFS
  // pipelines its RPCs.
  conn->max_background = 64;
  conn->congestion_threshold = 48;
  if (conn->capable & FUSE_CAP_PARALLEL_DIROPS) conn->want |= FUSE_CAP_PARALLEL_DIROPS;
  return fuse_get_context()->private_data;
}

int nas_getattr(const char* path, struct stat* st, fuse_file_info* fi) {
  if (const int rc = inject(FaultOp::kGetattr, "getattr", path)) return rc;
  state().link.request();
  const int rc = has_file(fi) ? fstat(open_file(fi).fd, st) : lstat(backing(path).c_str(), st);
  if (rc != 0) return -errno;
  show_mode(st);
  return 0;
}

int nas_readlink(const char* path, char* buf, size_t size) {
  if (const int rc = inject(FaultOp::kOther, "readlink", path)) return rc;
  state().link.request();
  const ssize_t n = readlink(backing(path).c_str(), buf, size - 1);
  if (n < 0) return -errno;
  buf[n] = '\0';
  return 0;
}

// One listing request returns every entry's attributes, as NFS READDIRPLUS does.
int nas_readdir(const char* path, void* buf, fuse_fill_dir_t filler, off_t, fuse_file_info*,
                fuse_readdir_flags flags) {
  if (const int rc = inject(FaultOp::kOther, "readdir", path)) return rc;
  state().link.request();
  DIR* dir = opendir(backing(path).c_str());
  if (dir == nullptr) return -errno;
  const bool plus = (flags & FUSE_READDIR_PLUS) != 0;
  while (dirent* e = readdir(dir)) {
    struct stat st {};
    st.st_ino = e->d_ino;
    st.st_mode = static_cast<mode_t>(DTTOIF(e->d_type));
    const bool full = plus && fstatat(dirfd(dir), e->d_name, &st, AT_SYMLINK_NOFOLLOW) == 0;
    if (full) show_mode(&st);
    const auto fill = full ? FUSE_FILL_DIR_PLUS : static_cast<fuse_fill_dir_flags>(0);
    if (filler(buf, e->d_name, &st, 0, fill) != 0) break;
  }
  closedir(dir);
  return 0;
}

int nas_open(const char* path, fuse_file_info* fi) {
  if (!state().writable && (fi->flags & O_ACCMODE) != O_RDONLY) return -EROFS;
  if (const int rc = inject(FaultOp::kOpen, "open", path)) return rc;
  state().link.request();
  const int fd = open(backing(path).c_str(), state().writable ? fi->flags : O_RDONLY);
  if (fd < 0) return -errno;
  fi->fh = reinterpret_cast<uint64_t>(new OpenFile(fd));
  fi->direct_io = 1;   // see Note [No client cache]
  fi->keep_cache = 0;
  return 0;
}

// Note [Short reads]: a `short` fault returns half the bytes asked for (at
// least 1), and the open file then ends there: later reads of this handle at or
// past that point return 0 (end of file). A short count alone would be
// invisible, since readers loop until they have what they asked for (and with
// async direct I/O the kernel may already have the rest from parallel
// requests); a file that ends early is what a reader must notice, as it would
// from a NAS that serves a truncated view. Reopening reads the real file.
int nas_read(const char* path, char* buf, size_t size, off_t offset, fuse_file_info* fi) {
  OpenFile& f = open_file(fi);
  long long ends_at = f.ends_at.load();
  if (ends_at >= 0 && offset >= ends_at) return 0;
  bool cut = false;
  if (const int rc = inject(FaultOp::kRead, "read", path, &cut)) return rc;
  if (cut) size = std::max<size_t>(1, size / 2);
  if (ends_at >= 0) size = std::min<size_t>(size, static_cast<size_t>(ends_at - offset));
  NasState& s = state();
  s.link.request();
  size_t done = 0;
  while (done < size) {  // pread may return short on a large request
    const ssize_t n = pread(f.fd, buf + done, size - done, offset + static_cast<off_t>(done));
    if (n < 0) {
      if (errno == EINTR) continue;
      return -errno;
    }
    if (n == 0) break;
    done += static_cast<size_t>(n);
  }
  if (cut) {  // the earliest cut wins when parallel requests are cut
    const long long end = offset + static_cast<long long>(done);
    while ((ends_at < 0 || end < ends_at) && !f.ends_at.compare_exchange_weak(ends_at, end)) {
    }
  }
  s.link.transfer(done);
  return static_cast<int>(done);
}

int nas_release(const char*, fuse_file_info* fi) {
  OpenFile* f = &open_file(fi);
  close(f->fd);
  delete f;
  return 0;
}

int nas_statfs(const char*, struct statvfs* st) {
  return statvfs(state().source.c_str(), st) == 0 ? 0 : -errno;
}

int read_only(const char*, mode_t) { return -EROFS; }

fuse_operations make_operations() {
  fuse_operations ops{};
  ops.init = nas_init;
  ops.getattr = nas_getattr;
  ops.readlink = nas_readlink;
  ops.readdir = nas_readdir;
  ops.open = nas_open;
  ops.read = nas_read;
  ops.release = nas_release;
  ops.statfs = nas_statfs;
  ops.mkdir = read_only;
  ops.create = [](const char*, mode_t, fuse_file_info*) { return -EROFS; };
  ops.unlink = [](const char*) { return -EROFS; };
  return ops;
}

}  // namespace

const fuse_operations& nas_operations(bool writable) {
  static const fuse_operations read_ops = make_operations();
  static const fuse_operations write_ops = [] {
    fuse_operations ops = make_operations();
    detail::add_write_operations(ops);
    return ops;
  }();
  return writable ? write_ops : read_ops;
}

}  // namespace nasfs
