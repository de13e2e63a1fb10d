#pragma once
// The FUSE operations of nasfs: a read-only passthrough of a backing folder in
// which every request pays the link's latency (see link_model.h).
#define FUSE_USE_VERSION 35
#include <fuse.h>

#include <string>

#include "tests/tools/nasfs/link_model.h"

namespace nasfs {

// Reached from every operation through fuse_get_context()->private_data.
struct NasState {
  std::string source;  // absolute path of the backing folder, no trailing slash
  LinkModel link;
};

// Operations: getattr (also serves the kernel's lookups), readdir, open, read,
// release, readlink, statfs. Writes fail with EROFS.
const fuse_operations& nas_operations();

}  // namespace nasfs
