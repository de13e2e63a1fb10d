#pragma once
// What is under an iobench PATH: the regular files, split into small ones
// (read whole, one open each: the DICOM-tree pattern) and large ones (read
// sequentially in big requests: the shard pattern), and the file system type.
#include <cstdint>
#include <string>
#include <vector>

namespace medtrain::data::io {

// Files at least this large are streamed; smaller ones are opened and read whole.
constexpr uint64_t kLargeFileBytes = 4ull << 20;

struct FileEntry {
  std::string path;
  uint64_t bytes = 0;
};

struct FileSurvey {
  std::string root;
  std::string fs_type;            // "nfs", "fuse", "ext4", "tmpfs", ... or "0x<magic>"
  bool network_fs = false;        // nfs, cifs/smb, fuse (which nasfs and most NAS clients are)
  std::vector<FileEntry> small;   // a random sample of at most max_small, in random order
  uint64_t small_total = 0;       // small files seen before sampling
  bool walk_stopped = false;      // the walk stopped at max_walk files: totals are lower bounds
  std::vector<FileEntry> large;   // all of them, largest first
};

// Walks `root` (a folder, recursively, or one file). Empty files are ignored.
// Each file costs a stat, i.e. a NAS round trip: the walk stops after
// `max_walk` files, so that a tree of millions of DICOM files is sampled from
// its first part rather than walked for minutes.
// Throws DataError naming `root` when it does not exist, cannot be read, or
// holds no non-empty regular file.
FileSurvey survey_files(const std::string& root, size_t max_small = 20000, uint64_t seed = 1,
                        size_t max_walk = 200000);

}  // namespace medtrain::data::io
