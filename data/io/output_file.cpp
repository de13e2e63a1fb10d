#include "data/io/output_file.h"

#include <fmt/format.h>
#include <sys/stat.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <system_error>

#include "data/data_error.h"
#include "data/io/user_file.h"

namespace medtrain::data::io {
namespace {

const char* special_kind(mode_t mode) {
  if (S_ISFIFO(mode)) return "a FIFO";
  if (S_ISCHR(mode)) return "a character device";
  if (S_ISBLK(mode)) return "a block device";
  if (S_ISSOCK(mode)) return "a socket";
  return "not a regular file";
}

}  // namespace

void check_output_file(const std::string& path, const std::string& flag, const std::string& noun) {
  const std::filesystem::path out(path);
  const std::string folder = out.has_parent_path() ? out.parent_path().string() : ".";
  struct stat st {};
  if (::stat(folder.c_str(), &st) != 0 || !S_ISDIR(st.st_mode)) {
    throw DataError(fmt::format("{} {}: the folder {} does not exist", flag, display_path(path), display_path(folder)));
  }
  if (::stat(path.c_str(), &st) == 0 && S_ISDIR(st.st_mode)) {
    throw DataError(fmt::format("{} {}: is a folder; name the {} file to write", flag, display_path(path), noun));
  }
  if (::lstat(path.c_str(), &st) != 0) {
    if (errno == ENOENT) return;  // a new file
    throw DataError(fmt::format("{} {}: {}", flag, display_path(path), std::strerror(errno)));
  }
  if (S_ISLNK(st.st_mode)) {
    std::error_code ec;
    const std::string target = std::filesystem::read_symlink(out, ec).string();
    throw DataError(fmt::format("{} {}: is a symbolic link (to {}); name the {} file itself", flag, display_path(path),
                                display_path(target), noun));
  }
  if (!S_ISREG(st.st_mode)) {
    throw DataError(fmt::format("{} {}: is {}, not a regular file; name the {} file to write", flag,
                                display_path(path), special_kind(st.st_mode), noun));
  }
}

bool same_file(const std::filesystem::path& a, const std::filesystem::path& b) {
  std::error_code ec;
  return std::filesystem::equivalent(a, b, ec) && !ec;
}

}  // namespace medtrain::data::io
