// Guards Note [libstdc++ first] in CMakeLists.txt: with libtorch.so linked,
// std::filesystem must still be libstdc++'s own (remove_all once crashed).
#include <gtest/gtest.h>
#include <torch/torch.h>

#include <filesystem>
#include <fstream>

namespace fs = std::filesystem;

TEST(Filesystem, RemoveAllWorksInABinaryLinkedWithLibTorch) {
  (void)torch::ones({1});  // make sure libtorch is really loaded and used
  fs::path root = fs::temp_directory_path() / ("medtrain_fs_" + std::to_string(::getpid()));
  fs::create_directories(root / "a" / "b");
  std::ofstream(root / "a" / "b" / "f.txt") << "x";
  std::ofstream(root / "g.txt") << "y";
  std::error_code ec;
  // root, a, a/b, a/b/f.txt, g.txt
  EXPECT_EQ(fs::remove_all(root, ec), 5u) << ec.message();
  EXPECT_FALSE(ec);
  EXPECT_FALSE(fs::exists(root));
}
