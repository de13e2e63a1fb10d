// Saving onto a full disk (Note [A failed save] in checkpoint.cpp): a real
// ENOSPC from a tiny tmpfs, not a mock. `latest` keeps naming the previous,
// intact checkpoint; nothing partial stays behind; the next save with space
// works. Mounting needs root (CAP_SYS_ADMIN): without it the tests skip and say so.
#include <sys/mount.h>
#include <sys/statvfs.h>

#include <cerrno>
#include <cstring>
#include <set>

#include "tests/trainer/checkpoint/checkpoint_test_util.h"
#include "trainer/checkpoint/checkpoint_dir.h"

namespace medtrain::checkpoint::testing {
namespace {

class FullDisk : public CkptDirTest {
 protected:
  void SetUp() override {
    CkptDirTest::SetUp();
    disk_ = root_ / "disk";
    fs::create_directories(disk_);
    if (::mount("tmpfs", disk_.c_str(), "tmpfs", 0, "size=256k") != 0) {
      GTEST_SKIP() << "cannot mount a 256 KiB tmpfs at " << disk_ << " (" << std::strerror(errno)
                   << "): these tests need root to get a real full disk";
    }
    mounted_ = true;
    ckpt_ = disk_ / "ckpt";
  }
  void TearDown() override {
    if (mounted_) ::umount2(disk_.c_str(), MNT_DETACH);
    CkptDirTest::TearDown();
  }

  void remount(const std::string& options) {
    ASSERT_EQ(::mount("tmpfs", disk_.c_str(), "tmpfs", MS_REMOUNT, options.c_str()), 0) << std::strerror(errno);
  }

  // Takes every free byte of the disk; returns the filler's path.
  fs::path fill_disk() {
    const fs::path filler = disk_ / "filler";
    FILE* f = std::fopen(filler.c_str(), "wb");
    EXPECT_NE(f, nullptr);
    const std::string block(4096, 'x');
    while (std::fwrite(block.data(), 1, block.size(), f) == block.size() && std::fflush(f) == 0) {
    }
    std::fclose(f);
    return filler;
  }

  int64_t inodes_used() {
    struct statvfs st {};
    EXPECT_EQ(::statvfs(disk_.c_str(), &st), 0);
    return static_cast<int64_t>(st.f_files - st.f_ffree);
  }

  std::set<std::string> ckpt_entries() {
    std::set<std::string> names;
    for (const auto& e : fs::directory_iterator(ckpt_)) names.insert(e.path().filename().string());
    return names;
  }

  void expect_latest_is(const Checkpoint& want, const std::string& name) {
    ASSERT_EQ(read_pointer(ckpt_, kLatestLink).value_or("(none)"), name);
    const Checkpoint got = load_checkpoint(ckpt_ / kLatestLink);  // verifies every checksum
    expect_bitwise_equal(want.model, got.model);
    expect_bitwise_equal(want.optimizer, got.optimizer);
    EXPECT_EQ(got.state.step, want.state.step);
  }

  fs::path disk_;
  bool mounted_ = false;
};

TEST_F(FullDisk, AFailedSaveKeepsLatestAndLeavesNothingPartial) {
  CheckpointManager manager(ckpt_, {});
  const Checkpoint first = make_checkpoint(1, 1);
  manager.save(first, std::nullopt);
  const fs::path filler = fill_disk();

  expect_checkpoint_error([&] { manager.save(make_checkpoint(2, 2), std::nullopt); },
                          {(ckpt_ / ".tmp-step-00000002-").string(), std::strerror(ENOSPC)});
  expect_latest_is(first, "step-00000001");
  EXPECT_EQ(ckpt_entries(), (std::set<std::string>{"latest", "step-00000001"}));

  // A second failure changes nothing either (the trainer retries at the next interval).
  expect_checkpoint_error([&] { manager.save(make_checkpoint(3, 3), std::nullopt); }, {std::strerror(ENOSPC)});
  EXPECT_EQ(ckpt_entries(), (std::set<std::string>{"latest", "step-00000001"}));

  fs::remove(filler);  // space again: the next save works
  const Checkpoint fourth = make_checkpoint(4, 4);
  EXPECT_EQ(manager.save(fourth, std::nullopt), ckpt_ / "step-00000004");
  expect_latest_is(fourth, "step-00000004");
}

// No inode left for the new `latest` symlink: the step folder was already renamed
// into place, complete, but `latest` cannot name it. It is removed (its space is
// what a full disk needs back), and `latest` stays at the previous checkpoint.
TEST_F(FullDisk, ALatestThatCannotBeUpdatedRemovesTheNewStepFolder) {
  remount("size=1m");
  CheckpointManager manager(ckpt_, {});
  const Checkpoint first = make_checkpoint(1, 1);
  manager.save(first, std::nullopt);
  // The next save creates 7 inodes (its folder and 6 files), then the symlink: the 8th.
  remount("size=1m,nr_inodes=" + std::to_string(inodes_used() + 7));
  expect_checkpoint_error([&] { manager.save(make_checkpoint(2, 2), std::nullopt); },
                          {"symlink", std::strerror(ENOSPC)});
  expect_latest_is(first, "step-00000001");
  EXPECT_EQ(ckpt_entries(), (std::set<std::string>{"latest", "step-00000001"}));
}

// A crash mid-save leaves .tmp-* names; the next run removes them at its start
// (the trainer calls remove_leftovers) rather than carrying them to the next save.
TEST_F(CkptDirTest, RemoveLeftoversRemovesOnlyTemporaryNames) {
  CheckpointManager manager(ckpt_, {});
  const Checkpoint first = make_checkpoint(1, 1);
  manager.save(first, std::nullopt);
  fs::create_directories(ckpt_ / ".tmp-step-00000002-4242");
  write(ckpt_ / ".tmp-step-00000002-4242" / "model.safetensors", "partial");
  fs::create_symlink("step-00000001", ckpt_ / "latest.tmp-4242");
  write(ckpt_ / "notes.txt", "kept");
  EXPECT_TRUE(remove_leftovers(ckpt_).empty());
  std::set<std::string> names;
  for (const auto& e : fs::directory_iterator(ckpt_)) names.insert(e.path().filename().string());
  EXPECT_EQ(names, (std::set<std::string>{"latest", "notes.txt", "step-00000001"}));
  EXPECT_EQ(load_checkpoint(ckpt_ / "latest").state.step, 1);
}

}  // namespace
}  // namespace medtrain::checkpoint::testing
