#include "tests/tools/nasfs/nasfs_ops.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace nasfs {

namespace {

NasState& state() { return *static_cast<NasState*>(fuse_get_context()->private_data); }

std::string backing(const char* path) { return state().source + path; }

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
  state().link.request();
  const int rc = fi ? fstat(static_cast<int>(fi->fh), st) : lstat(backing(path).c_str(), st);
  if (rc != 0) return -errno;
  st->st_mode &= ~(S_IWUSR | S_IWGRP | S_IWOTH);  // read-only, and say so
  return 0;
}

int nas_readlink(const char* path, char* buf, size_t size) {
  state().link.request();
  const ssize_t n = readlink(backing(path).c_str(), buf, size - 1);
  if (n < 0) return -errno;
  buf[n] = '\0';
  return 0;
}

// One listing request returns every entry's attributes, as NFS READDIRPLUS does.
int nas_readdir(const char* path, void* buf, fuse_fill_dir_t filler, off_t, fuse_file_info*,
                fuse_readdir_flags flags) {
  state().link.request();
  DIR* dir = opendir(backing(path).c_str());
  if (dir == nullptr) return -errno;
  const bool plus = (flags & FUSE_READDIR_PLUS) != 0;
  while (dirent* e = readdir(dir)) {
    struct stat st {};
    st.st_ino = e->d_ino;
    st.st_mode = static_cast<mode_t>(DTTOIF(e->d_type));
    const bool full = plus && fstatat(dirfd(dir), e->d_name, &st, AT_SYMLINK_NOFOLLOW) == 0;
    if (full) st.st_mode &= ~(S_IWUSR | S_IWGRP | S_IWOTH);
    const auto fill = full ? FUSE_FILL_DIR_PLUS : static_cast<fuse_fill_dir_flags>(0);
    if (filler(buf, e->d_name, &st, 0, fill) != 0) break;
  }
  closedir(dir);
  return 0;
}

int nas_open(const char* path, fuse_file_info* fi) {
  if ((fi->flags & O_ACCMODE) != O_RDONLY) return -EROFS;
  state().link.request();
  const int fd = open(backing(path).c_str(), O_RDONLY);
  if (fd < 0) return -errno;
  fi->fh = static_cast<uint64_t>(fd);
  fi->direct_io = 1;   // see Note [No client cache]
  fi->keep_cache = 0;
  return 0;
}

int nas_read(const char*, char* buf, size_t size, off_t offset, fuse_file_info* fi) {
  NasState& s = state();
  s.link.request();
  size_t done = 0;
  while (done < size) {  // pread may return short on a large request
    const ssize_t n = pread(static_cast<int>(fi->fh), buf + done, size - done, offset + static_cast<off_t>(done));
    if (n < 0) {
      if (errno == EINTR) continue;
      return -errno;
    }
    if (n == 0) break;
    done += static_cast<size_t>(n);
  }
  s.link.transfer(done);
  return static_cast<int>(done);
}

int nas_release(const char*, fuse_file_info* fi) {
  close(static_cast<int>(fi->fh));
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

const fuse_operations& nas_operations() {
  static const fuse_operations ops = make_operations();
  return ops;
}

}  // namespace nasfs
