// `--resume auto|PATH|""` -> which checkpoint a run continues from.
#include "tests/trainer/checkpoint/checkpoint_test_util.h"

namespace medtrain::checkpoint::testing {
namespace {

using ResolveResume = CkptDirTest;

TEST_F(ResolveResume, EmptyMeansNoResume) {
  EXPECT_FALSE(resolve_resume("", ckpt_).has_value());
  CheckpointManager(ckpt_, {}).save(make_checkpoint(1), std::nullopt);
  EXPECT_FALSE(resolve_resume("", ckpt_).has_value());
}

TEST_F(ResolveResume, AutoWithoutCheckpointsStartsFresh) {
  EXPECT_FALSE(resolve_resume("auto", ckpt_).has_value());  // folder does not exist yet
  fs::create_directories(ckpt_ / ".tmp-step-00000005-123");  // only a crashed save
  EXPECT_FALSE(resolve_resume("auto", ckpt_).has_value());
}

TEST_F(ResolveResume, AutoFollowsLatest) {
  CheckpointManager manager(ckpt_, {});
  manager.save(make_checkpoint(10), std::nullopt);
  manager.save(make_checkpoint(20), std::nullopt);
  const auto path = resolve_resume("auto", ckpt_);
  ASSERT_TRUE(path.has_value());
  EXPECT_EQ(*path, ckpt_ / "step-00000020");
  EXPECT_EQ(load_checkpoint(*path).state.step, 20);
}

// A crash between renaming the directory into place and updating `latest`.
TEST_F(ResolveResume, AutoWithoutLatestTakesTheNewestCompleteStep) {
  CheckpointManager manager(ckpt_, {});
  manager.save(make_checkpoint(10), std::nullopt);
  manager.save(make_checkpoint(20), std::nullopt);
  fs::remove(ckpt_ / "latest");
  fs::create_directories(ckpt_ / "step-00000030");  // no manifest: not a checkpoint
  EXPECT_EQ(*resolve_resume("auto", ckpt_), ckpt_ / "step-00000020");
}

TEST_F(ResolveResume, AutoWithDanglingLatestIsAnError) {
  const fs::path dir = CheckpointManager(ckpt_, {}).save(make_checkpoint(10), std::nullopt);
  std::error_code ec;
  std::filesystem::remove_all(dir, ec);
  expect_checkpoint_error([&] { resolve_resume("auto", ckpt_); },
                          {"--resume auto", "points to step-00000010, which does not exist"});
}

TEST_F(ResolveResume, ExplicitPaths) {
  const fs::path dir = CheckpointManager(ckpt_, {}).save(make_checkpoint(10), std::nullopt);
  EXPECT_EQ(*resolve_resume(dir.string(), ckpt_), dir);
  EXPECT_EQ(*resolve_resume((ckpt_ / "latest").string(), ckpt_), dir);
  EXPECT_EQ(*resolve_resume(ckpt_.string(), root_ / "other"), dir);  // a run's ckpt folder
  const std::string missing = (root_ / "runs/nope/ckpt/step-00000099").string();
  expect_checkpoint_error([&] { resolve_resume(missing, ckpt_); }, {"--resume " + missing + ": no such checkpoint"});
  fs::create_directories(root_ / "random");
  expect_checkpoint_error([&] { resolve_resume((root_ / "random").string(), ckpt_); },
                          {"--resume " + (root_ / "random").string(), "not a medtrain checkpoint"});
}

}  // namespace
}  // namespace medtrain::checkpoint::testing
