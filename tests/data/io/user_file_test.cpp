// Guarded reads (user_file.h), locks (output_lock.h) and writes below an output
// root (write_beneath.h): the hostile cases of issue 21 that they close.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <vector>

#include "data/data_error.h"
#include "data/io/output_lock.h"
#include "data/io/user_file.h"
#include "data/io/write_beneath.h"
#include "tests/common/temp_dir.h"

namespace medtrain::data::io {
namespace {

namespace fs = std::filesystem;
using testing::TempDir;

template <typename F>
std::string error_of(F&& fn) {
  try {
    fn();
  } catch (const DataError& e) {
    return e.what();
  }
  return "(no DataError)";
}

std::string slurp(const fs::path& p) {
  std::ifstream in(p);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

TEST(UserFile, ReadsARegularFileWhole) {
  TempDir dir("userfile");
  const auto f = dir.write("a.yaml", std::string(200000, 'q'));
  EXPECT_EQ(read_user_file(f.string(), "config", 1 << 20), std::string(200000, 'q'));
  EXPECT_EQ(check_regular_file(f.string(), "config", 1 << 20), 200000u);
}

TEST(UserFile, RefusesFifosDevicesFoldersAndOversizeFilesWithoutReading) {
  TempDir dir("userfile_bad");
  const auto fifo = dir.path() / "pipe";
  ASSERT_EQ(::mkfifo(fifo.c_str(), 0600), 0);
  // Would block forever in open() or read() without O_NONBLOCK and the kind check.
  EXPECT_NE(error_of([&] { read_user_file(fifo.string(), "config file", 100); }).find("pipe: a FIFO"),
            std::string::npos);
  EXPECT_NE(error_of([&] { read_user_file("/dev/zero", "manifest", 100); }).find("/dev/zero: a character device"),
            std::string::npos);
  EXPECT_NE(error_of([&] { read_user_file(dir.str(), "manifest", 100); }).find("a folder"), std::string::npos);
  const auto big = dir.write("big", std::string(101, 'x'));
  EXPECT_NE(error_of([&] { read_user_file(big.string(), "key file", 100); }).find("101 bytes, more than the 100"),
            std::string::npos);
  EXPECT_NE(error_of([&] { read_user_file((dir.path() / "nope").string(), "manifest", 100); }).find("does not exist"),
            std::string::npos);
}

TEST(UserFile, DisplayPathShortensAndStripsControlCharacters) {
  const std::string longest(1 << 20, 'a');
  EXPECT_LE(display_path(longest).size(), 170u);
  EXPECT_EQ(display_path("a\nb\x1b"), "a?b?");
  EXPECT_EQ(display_path("/plain/path.yaml"), "/plain/path.yaml");
  const std::string shown = display_path("/start/" + longest + "/end.dcm");
  EXPECT_EQ(shown.rfind("/start/", 0), 0u);
  EXPECT_EQ(shown.substr(shown.size() - 8), "/end.dcm");
}

TEST(UserFile, PathComponentsAreOnePlainName) {
  EXPECT_NO_THROW(check_path_component("run-1 (copy)", "run.name"));
  for (const std::string& bad : std::vector<std::string>{"", ".", "..", "a/b", "/", "/abs", "a\nb", std::string(256, 'x')}) {
    EXPECT_NE(error_of([&] { check_path_component(bad, "run.name"); }).find("run.name"), std::string::npos) << bad;
  }
}

TEST(OutputLock, SecondHolderFailsNamingTheFirstAndLockGoesWithTheProcess) {
  TempDir dir("lock");
  const std::string out = dir.str("out");
  {
    const OutputLock first(out, "deid");
    // flock locks belong to the open file description: a child process that
    // opens the file itself competes like a second medtrain would.
    const pid_t child = ::fork();
    if (child == 0) {
      try {
        OutputLock second(out, "deid");
        ::_exit(1);
      } catch (const DataError& e) {
        const std::string msg = e.what();
        const bool ok = msg.find("in use by medtrain deid (pid " + std::to_string(::getppid()) + ")") !=
                        std::string::npos;
        ::_exit(ok ? 0 : 2);
      }
    }
    int status = 0;
    ASSERT_EQ(::waitpid(child, &status, 0), child);
    EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << status;
  }
  EXPECT_NO_THROW(OutputLock again(out, "pack"));  // released with its holder
  EXPECT_NE(slurp(fs::path(out) / kLockFileName).find("medtrain pack"), std::string::npos);
}

TEST(OutputLock, RefusesALinkedLockFileAndAFileAsFolder) {
  TempDir dir("lock_bad");
  const auto victim = dir.write("victim.txt", "keep me");
  fs::create_directories(dir.path() / "out");
  fs::create_symlink(victim, dir.path() / "out" / kLockFileName);
  EXPECT_NE(error_of([&] { OutputLock l(dir.str("out"), "deid"); }).find("symbolic link"), std::string::npos);
  EXPECT_EQ(slurp(victim), "keep me");
  EXPECT_NE(error_of([&] { OutputLock l(victim.string(), "deid"); }).find("cannot create it"), std::string::npos);
}

TEST(WriteBeneath, CreatesFoldersAndWritesInsideTheRoot) {
  TempDir dir("beneath");
  const int fd = open_beneath(dir.str(), "a/b/c/file.dcm", O_CREAT | O_EXCL);
  ASSERT_GE(fd, 0);
  ASSERT_EQ(::write(fd, "xy", 2), 2);
  ::close(fd);
  EXPECT_EQ(slurp(dir.path() / "a/b/c/file.dcm"), "xy");
  EXPECT_NO_THROW(make_dirs_beneath(dir.str(), "a/b/d"));
  EXPECT_TRUE(fs::is_directory(dir.path() / "a/b/d"));
}

TEST(WriteBeneath, NeverFollowsALinkBelowTheRoot) {
  TempDir dir("beneath_links");
  fs::create_directories(dir.path() / "out");
  fs::create_directories(dir.path() / "elsewhere");
  const auto victim = dir.write("victim.jsonl", "old\n");
  fs::create_directory_symlink(dir.path() / "elsewhere", dir.path() / "out/pseudonym");
  fs::create_symlink(victim, dir.path() / "out/audit.jsonl");
  EXPECT_NE(error_of([&] { open_beneath(dir.str("out"), "pseudonym/study/x.dcm", O_CREAT); }).find("symbolic link"),
            std::string::npos);
  EXPECT_NE(error_of([&] { open_beneath(dir.str("out"), "audit.jsonl", O_CREAT | O_APPEND); }).find("symbolic link"),
            std::string::npos);
  EXPECT_TRUE(fs::is_empty(dir.path() / "elsewhere"));
  EXPECT_EQ(slurp(victim), "old\n");
  EXPECT_NE(error_of([&] { open_beneath(dir.str("out"), "../escape.dcm", O_CREAT); }).find("leave the output folder"),
            std::string::npos);
  EXPECT_FALSE(fs::exists(dir.path() / "escape.dcm"));
}

}  // namespace
}  // namespace medtrain::data::io
