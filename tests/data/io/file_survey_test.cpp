// survey_files: small/large split, sampling, and errors that name the path.
#include <gtest/gtest.h>

#include <set>

#include "data/data_error.h"
#include "data/io/file_survey.h"
#include "tests/common/temp_dir.h"

namespace medtrain::data::io {
namespace {

using testing::TempDir;

TEST(FileSurvey, SplitsSmallAndLargeFilesAndIgnoresEmptyOnes) {
  TempDir dir("survey");
  for (int i = 0; i < 5; ++i) dir.write("a/s" + std::to_string(i) + ".dcm", std::string(100 + i, 'x'));
  dir.write("b/empty.dcm", "");
  dir.write("big.shard", std::string(kLargeFileBytes, 'y'));
  dir.write("just_below.bin", std::string(kLargeFileBytes - 1, 'z'));
  const FileSurvey s = survey_files(dir.str());
  EXPECT_EQ(s.small_total, 6u);
  ASSERT_EQ(s.large.size(), 1u);
  EXPECT_EQ(s.large[0].bytes, kLargeFileBytes);
  std::set<uint64_t> sizes;
  for (const auto& f : s.small) sizes.insert(f.bytes);
  EXPECT_EQ(sizes, (std::set<uint64_t>{100, 101, 102, 103, 104, kLargeFileBytes - 1}));
  EXPECT_FALSE(s.fs_type.empty());
}

TEST(FileSurvey, SamplesAtMostMaxSmallDistinctFiles) {
  TempDir dir("survey_sample");
  for (int i = 0; i < 30; ++i) dir.write("f" + std::to_string(i), "abc");
  const FileSurvey s = survey_files(dir.str(), 7);
  EXPECT_EQ(s.small_total, 30u);
  ASSERT_EQ(s.small.size(), 7u);
  std::set<std::string> names;
  for (const auto& f : s.small) names.insert(f.path);
  EXPECT_EQ(names.size(), 7u);
}

TEST(FileSurvey, WalkStopsAtMaxWalk) {
  TempDir dir("survey_walk");
  for (int i = 0; i < 12; ++i) dir.write("f" + std::to_string(i), "abc");
  const FileSurvey s = survey_files(dir.str(), 100, 1, 5);
  EXPECT_TRUE(s.walk_stopped);
  EXPECT_EQ(s.small_total, 5u);
  EXPECT_FALSE(survey_files(dir.str(), 100, 1, 12).walk_stopped);  // exactly all of them
}

TEST(FileSurvey, AcceptsOneFile) {
  TempDir dir("survey_file");
  const auto file = dir.write("one.bin", "hello");
  const FileSurvey s = survey_files(file.string());
  ASSERT_EQ(s.small.size(), 1u);
  EXPECT_EQ(s.small[0].bytes, 5u);
}

TEST(FileSurvey, MissingPathIsNamed) {
  TempDir dir("survey_missing");
  try {
    survey_files(dir.str("nope"));
    FAIL() << "no error";
  } catch (const DataError& e) {
    EXPECT_NE(std::string(e.what()).find(dir.str("nope")), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("does not exist"), std::string::npos) << e.what();
  }
}

TEST(FileSurvey, FolderWithoutDataIsRefused) {
  TempDir dir("survey_empty");
  dir.write("sub/zero", "");
  try {
    survey_files(dir.str());
    FAIL() << "no error";
  } catch (const DataError& e) {
    EXPECT_NE(std::string(e.what()).find("no non-empty files"), std::string::npos) << e.what();
  }
}

}  // namespace
}  // namespace medtrain::data::io
