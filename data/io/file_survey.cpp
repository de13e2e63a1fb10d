#include "data/io/file_survey.h"

#include <sys/vfs.h>

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <random>
#include <system_error>

#include "data/data_error.h"

namespace medtrain::data::io {

namespace fs = std::filesystem;

namespace {

struct FsName {
  long magic;
  const char* name;
  bool network;
};

// statfs(2) magic numbers of the file systems a dataset is likely to live on.
constexpr FsName kFsNames[] = {
    {0x6969, "nfs", true},        {0xFF534D42, "cifs", true},  {0xFE534D42, "smb2", true},
    {0x65735546, "fuse", true},   {0x01021994, "tmpfs", false}, {0xEF53, "ext4", false},
    {0x58465342, "xfs", false},   {0x9123683E, "btrfs", false}, {0x794C7630, "overlay", false},
    {0x2FC12FC1, "zfs", false},   {0x0BD00BD0, "lustre", true}, {0x47504653, "gpfs", true},
    {0x00C36400, "ceph", true},   {0x19830326, "beegfs", true}};

void describe_fs(const std::string& root, FileSurvey& s) {
  struct statfs st {};
  if (statfs(root.c_str(), &st) != 0) return;
  for (const FsName& f : kFsNames) {
    if (static_cast<unsigned long>(st.f_type) == static_cast<unsigned long>(f.magic)) {
      s.fs_type = f.name;
      s.network_fs = f.network;
      return;
    }
  }
  char buf[32];
  std::snprintf(buf, sizeof(buf), "0x%lx", static_cast<unsigned long>(st.f_type));
  s.fs_type = buf;
}

void add_file(const fs::path& p, uint64_t bytes, FileSurvey& s, std::vector<FileEntry>& small) {
  if (bytes == 0) return;
  if (bytes >= kLargeFileBytes) {
    s.large.push_back({p.string(), bytes});
  } else {
    small.push_back({p.string(), bytes});
  }
}

}  // namespace

FileSurvey survey_files(const std::string& root, size_t max_small, uint64_t seed, size_t max_walk) {
  FileSurvey s;
  s.root = root;
  std::error_code ec;
  const auto status = fs::status(root, ec);
  if (ec || !fs::exists(status)) throw DataError("iobench: path '" + root + "' does not exist");
  describe_fs(root, s);
  std::vector<FileEntry> small;
  if (fs::is_regular_file(status)) {
    add_file(root, fs::file_size(root, ec), s, small);
  } else if (fs::is_directory(status)) {
    fs::recursive_directory_iterator it(root, fs::directory_options::skip_permission_denied, ec);
    if (ec) throw DataError("iobench: cannot list '" + root + "': " + ec.message());
    for (; it != fs::recursive_directory_iterator(); it.increment(ec)) {
      if (ec) throw DataError("iobench: cannot list '" + root + "': " + ec.message());
      std::error_code fe;
      if (!it->is_regular_file(fe)) continue;
      if (small.size() + s.large.size() >= max_walk) {  // one file more than we will look at
        s.walk_stopped = true;
        break;
      }
      add_file(it->path(), it->file_size(fe), s, small);
    }
  } else {
    throw DataError("iobench: path '" + root + "' is neither a folder nor a regular file");
  }
  if (small.empty() && s.large.empty()) {
    throw DataError("iobench: '" + root + "' holds no non-empty files to read; point it at the dataset "
                    "(a folder of DICOM files or of shards)");
  }
  s.small_total = small.size();
  std::mt19937_64 rng(seed);
  std::shuffle(small.begin(), small.end(), rng);
  if (small.size() > max_small) small.resize(max_small);
  s.small = std::move(small);
  std::sort(s.large.begin(), s.large.end(), [](const FileEntry& a, const FileEntry& b) { return a.bytes > b.bytes; });
  return s;
}

}  // namespace medtrain::data::io
