#pragma once
// Helpers shared by the metrics tests: a self-deleting temp directory and an
// "expect this exception with this text in its message" check.
#include <ftw.h>
#include <gtest/gtest.h>
#include <stdlib.h>

#include <cstdio>

#include <filesystem>
#include <string>

namespace medtrain::metrics::testing {

class TempDir {
 public:
  TempDir() {
    std::string pattern = (std::filesystem::temp_directory_path() / "medtrain_metrics_XXXXXX");
    if (mkdtemp(pattern.data()) == nullptr) throw std::runtime_error("mkdtemp failed");
    path_ = pattern;
  }
  // Not std::filesystem::remove_all: the pip LibTorch's libtorch.so exports its
  // own copy of it, which the executable binds to and which crashes (calls a
  // null iterator function). nftw is plain libc.
  ~TempDir() {
    nftw(
        path_.c_str(),
        [](const char* p, const struct stat*, int, struct FTW*) { return std::remove(p); }, 16,
        FTW_DEPTH | FTW_PHYS);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const std::filesystem::path& path() const { return path_; }

 private:
  std::filesystem::path path_;
};

// Runs `fn`, expects an exception of type E whose what() contains `needle`.
template <typename E, typename Fn>
void expect_throw_with(Fn&& fn, const std::string& needle) {
  try {
    fn();
    ADD_FAILURE() << "expected an exception mentioning \"" << needle << "\"";
  } catch (const E& e) {
    EXPECT_NE(std::string(e.what()).find(needle), std::string::npos)
        << "message \"" << e.what() << "\" does not mention \"" << needle << "\"";
  }
}

}  // namespace medtrain::metrics::testing
