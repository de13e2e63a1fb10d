// Note [Checkpoints on a full disk]: when a failed checkpoint save stops the run.
#include <gtest/gtest.h>

#include "trainer/engine/save_failures.h"

namespace medtrain::engine {
namespace {

TEST(SaveFailures, StopsAfterMaxFailuresInARow) {
  SaveFailures f(3);
  EXPECT_FALSE(f.failed(false));
  EXPECT_FALSE(f.failed(false));
  f.succeeded();  // a save in between starts the count anew
  EXPECT_FALSE(f.failed(false));
  EXPECT_FALSE(f.failed(false));
  EXPECT_TRUE(f.failed(false));
  EXPECT_EQ(f.total(), 5);
}

TEST(SaveFailures, AFailedFinalCheckpointStopsAtOnce) {
  SaveFailures f(3);
  EXPECT_TRUE(f.failed(true));
  SaveFailures one(1);
  EXPECT_TRUE(one.failed(false));
}

TEST(SaveFailures, MessagesNameTheErrorAndTheLastIntactCheckpoint) {
  SaveFailures f(3);
  f.failed(false);
  const std::string error = "cannot write /r/ckpt/.tmp-step-00000006-1/model.safetensors: No space left on device";
  const std::string warning = f.warning(6, error, std::filesystem::path("/r/ckpt/step-00000003"));
  EXPECT_NE(warning.find(error), std::string::npos) << warning;
  EXPECT_NE(warning.find("latest stays /r/ckpt/step-00000003"), std::string::npos) << warning;
  EXPECT_NE(warning.find("1 of checkpoint.max_failed_saves 3"), std::string::npos) << warning;
  EXPECT_EQ(warning.find('\n'), std::string::npos);
  const std::string fatal = f.fatal(9, error, std::nullopt, true);
  EXPECT_NE(fatal.find("the final checkpoint"), std::string::npos) << fatal;
  EXPECT_NE(fatal.find(error), std::string::npos) << fatal;
  EXPECT_NE(fatal.find("the last intact checkpoint is none yet"), std::string::npos) << fatal;
}

}  // namespace
}  // namespace medtrain::engine
