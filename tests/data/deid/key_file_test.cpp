// The key file: refused with a message naming the file and the fix when missing,
// shared with group/others, or too short; never echoed.
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <filesystem>
#include <fstream>

#include "data/data_error.h"
#include "data/deid/key_file.h"

namespace fs = std::filesystem;

namespace medtrain::data::deid {
namespace {

class KeyFileTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("deid_key_test_" + std::to_string(::getpid()));
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }
  std::string write(const std::string& name, const std::string& bytes, mode_t mode) {
    const auto path = (dir_ / name).string();
    std::ofstream(path, std::ios::binary) << bytes;
    ::chmod(path.c_str(), mode);
    return path;
  }
  std::string error_of(const std::string& path) {
    try {
      read_key_file(path);
    } catch (const DataError& e) {
      return e.what();
    }
    return "";
  }
  fs::path dir_;
};

TEST_F(KeyFileTest, GoodKeyIsReadExactly) {
  const std::string bytes("0123456789abcdef\n\0x", 19);
  EXPECT_EQ(read_key_file(write("k", bytes, 0600)), bytes);
  EXPECT_EQ(read_key_file(write("k4", bytes, 0400)), bytes);
}

TEST_F(KeyFileTest, WorldOrGroupReadableIsRefused) {
  const std::string secret = "TOPSECRETKEYBYTES-0123456789";
  for (mode_t mode : {0644, 0640, 0604, 0660}) {
    const auto path = write("shared", secret, mode);
    const std::string msg = error_of(path);
    EXPECT_NE(msg.find(path), std::string::npos) << msg;
    EXPECT_NE(msg.find("chmod 600 " + path), std::string::npos) << msg;
    EXPECT_EQ(msg.find(secret), std::string::npos) << msg;
  }
}

TEST_F(KeyFileTest, MissingOrShortIsRefused) {
  const auto missing = (dir_ / "nope").string();
  EXPECT_NE(error_of(missing).find(missing), std::string::npos);
  const std::string short_msg = error_of(write("short", "abc", 0600));
  EXPECT_NE(short_msg.find("3 bytes"), std::string::npos) << short_msg;
  EXPECT_NE(error_of(dir_.string()).find("a folder, expected a regular file"), std::string::npos);
}

// A FIFO would block a plain read forever and /dev/zero would never end: both are
// refused before any read, as is a key file too large to be one.
TEST_F(KeyFileTest, FifoDeviceAndHugeFilesAreRefusedWithoutReading) {
  const auto fifo = (dir_ / "fifo").string();
  ASSERT_EQ(::mkfifo(fifo.c_str(), 0600), 0);
  const std::string fifo_msg = error_of(fifo);
  EXPECT_NE(fifo_msg.find("a FIFO"), std::string::npos) << fifo_msg;
  EXPECT_NE(fifo_msg.find(fifo), std::string::npos) << fifo_msg;
  EXPECT_NE(error_of("/dev/zero").find("a character device"), std::string::npos) << error_of("/dev/zero");
  const std::string huge = error_of(write("huge", std::string((64 << 10) + 1, 'k'), 0600));
  EXPECT_NE(huge.find("65537 bytes"), std::string::npos) << huge;
}

}  // namespace
}  // namespace medtrain::data::deid
