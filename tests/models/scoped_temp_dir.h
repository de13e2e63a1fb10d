#pragma once
// A fresh directory under the system temp dir, removed with everything in it
// when the object goes. Not std::filesystem::remove_all: libtorch.so (pip
// wheel) exports a remove_all that calls address 0 with GCC 12's libstdc++
// (it reaches recursive_directory_iterator internals through weak symbols the
// newer library lacks), and binaries linked with LibTorch bind to that copy.
#include <filesystem>
#include <string>
#include <system_error>
#include <vector>

#include <unistd.h>

namespace medtrain::testing {

inline void remove_tree(const std::filesystem::path& path) {
  namespace fs = std::filesystem;
  std::error_code ec;
  const auto status = fs::symlink_status(path, ec);
  if (ec) return;
  if (fs::is_directory(status)) {
    std::vector<fs::path> children;
    for (fs::directory_iterator it(path, ec), end; !ec && it != end; it.increment(ec)) children.push_back(it->path());
    for (const auto& child : children) remove_tree(child);
  }
  fs::remove(path, ec);
}

class ScopedTempDir {
 public:
  explicit ScopedTempDir(const std::string& name)
      : path_(std::filesystem::temp_directory_path() / (name + "_" + std::to_string(::getpid()))) {
    remove_tree(path_);
    std::filesystem::create_directories(path_);
  }
  ~ScopedTempDir() { remove_tree(path_); }
  ScopedTempDir(const ScopedTempDir&) = delete;
  ScopedTempDir& operator=(const ScopedTempDir&) = delete;

  const std::filesystem::path& path() const { return path_; }

 private:
  std::filesystem::path path_;
};

}  // namespace medtrain::testing
