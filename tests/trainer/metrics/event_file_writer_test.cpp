// EventFileWriter checked by TensorBoard's own reader (read_tensorboard.py runs
// EventAccumulator): what we encode by hand must come back tag for tag, step
// for step, value for value.
#include <gtest/gtest.h>
#include <unistd.h>

#include <array>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <fstream>
#include <iterator>
#include <map>
#include <regex>
#include <string>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "tests/trainer/metrics/python_json.h"
#include "tests/trainer/metrics/test_util.h"
#include "trainer/metrics/event_file_writer.h"
#include "trainer/user_error.h"

namespace medtrain::metrics {
namespace {

using testing::TempDir;
using Series = std::vector<std::pair<int64_t, double>>;

std::string read_file(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

// Runs read_tensorboard.py on `dir` and returns its parsed stdout. A failing
// script fails the test with its stderr.
nlohmann::json read_with_tensorboard(const std::filesystem::path& dir, bool meta = false) {
  std::vector<std::string> args;
  if (meta) args.push_back("--meta");
  args.push_back(dir.string());
  return testing::run_python_json("tests/trainer/metrics/read_tensorboard.py", args, dir.parent_path());
}

void expect_series(const nlohmann::json& got, const std::string& tag, const Series& want) {
  ASSERT_TRUE(got.contains(tag)) << "tag " << tag << " missing from " << got.dump();
  const auto& points = got.at(tag);
  ASSERT_EQ(points.size(), want.size()) << tag << ": " << points.dump();
  for (size_t i = 0; i < want.size(); ++i) {
    EXPECT_EQ(points[i][0].get<int64_t>(), want[i].first) << tag << " point " << i;
    const double value = points[i][1].get<double>();
    EXPECT_NEAR(value, want[i].second, 1e-6 * std::abs(want[i].second))
        << tag << " point " << i;
  }
}

TEST(EventFileWriter, TensorBoardReadsBackEveryScalar) {
  if (std::string(MEDTRAIN_PYTHON).empty()) GTEST_SKIP() << "configured without MEDTRAIN_PYTHON";
  TempDir tmp;
  const auto dir = tmp.path() / "tb";  // created by the writer
  const std::map<std::string, Series> written = {
      {"train/loss", {{0, 2.5}, {1, 1.25}, {2, 0.625}, {1000, 1e-8}}},
      {"train/lr", {{0, 3e-4}, {5, -0.5}, {int64_t{1} << 40, 123456.789}}},
      {"eval/auroc", {{-3, -1.0}, {0, 0.0}, {7, 3.14159265358979}}},
  };
  {
    EventFileWriter writer(dir);
    for (const auto& [tag, series] : written) {
      for (const auto& [step, value] : series) writer.add_scalar(tag, value, step);
    }
    writer.flush();
  }
  const auto got = read_with_tensorboard(dir);
  ASSERT_TRUE(got.is_object());
  EXPECT_EQ(got.size(), written.size()) << got.dump();
  for (const auto& [tag, series] : written) expect_series(got, tag, series);
}

TEST(EventFileWriter, FileNameVersionAndWallTime) {
  if (std::string(MEDTRAIN_PYTHON).empty()) GTEST_SKIP() << "configured without MEDTRAIN_PYTHON";
  TempDir tmp;
  const auto before = static_cast<double>(std::time(nullptr));
  EventFileWriter writer(tmp.path());
  writer.add_scalar("x", 1.0, 1);
  const auto after = static_cast<double>(std::time(nullptr)) + 1;

  std::array<char, 256> host{};
  gethostname(host.data(), host.size() - 1);
  const std::string name = writer.path().filename().string();
  EXPECT_EQ(writer.path().parent_path(), tmp.path());
  EXPECT_TRUE(std::regex_match(name, std::regex(R"(events\.out\.tfevents\.\d{10}\..+\.medtrain)")))
      << name;
  EXPECT_NE(name.find(std::string(".") + host.data() + ".medtrain"), std::string::npos) << name;
  EXPECT_TRUE(std::filesystem::exists(writer.path()));

  const auto got = read_with_tensorboard(tmp.path(), /*meta=*/true);
  ASSERT_TRUE(got.is_object());
  EXPECT_EQ(got.at("file_version"), 2.0);  // parsed from "brain.Event:2"
  const double wall_time = got.at("scalars").at("x").at(0).at(2).get<double>();
  EXPECT_GE(wall_time, before);
  EXPECT_LE(wall_time, after);
}

// Byte offsets of each record's payload CRC (TFRecord: u64 length, u32 crc,
// payload, u32 crc), walking the framing independently of the writer.
std::vector<size_t> payload_crc_offsets(const std::string& bytes) {
  std::vector<size_t> offsets;
  for (size_t at = 0; at + 12 <= bytes.size();) {
    uint64_t length = 0;
    for (int i = 7; i >= 0; --i) length = (length << 8) | static_cast<unsigned char>(bytes[at + i]);
    offsets.push_back(at + 12 + length);
    at += 12 + length + 4;
  }
  return offsets;
}

TEST(EventFileWriter, CorruptCrcStopsTensorBoardAtThatRecord) {
  // TensorBoard's EventFileLoader swallows the DataLossError of a bad CRC and
  // stops reading the file there: the records before it survive, it and all
  // later ones are dropped. Proves the CRCs we write are the ones it checks.
  if (std::string(MEDTRAIN_PYTHON).empty()) GTEST_SKIP() << "configured without MEDTRAIN_PYTHON";
  TempDir tmp;
  std::filesystem::path path;
  {
    EventFileWriter writer(tmp.path());
    for (int64_t step = 0; step < 5; ++step) writer.add_scalar("x", 0.5 * step, step);
    path = writer.path();
  }
  std::string bytes = read_file(path);
  const auto crcs = payload_crc_offsets(bytes);
  ASSERT_EQ(crcs.size(), 6u);            // file_version + 5 scalars
  ASSERT_EQ(crcs.back() + 4, bytes.size());
  expect_series(read_with_tensorboard(tmp.path()), "x",
                {{0, 0.0}, {1, 0.5}, {2, 1.0}, {3, 1.5}, {4, 2.0}});

  bytes[crcs[3]] = static_cast<char>(bytes[crcs[3]] ^ 0x01);  // record 3 holds step 2
  std::ofstream(path, std::ios::binary | std::ios::trunc) << bytes;
  expect_series(read_with_tensorboard(tmp.path()), "x", {{0, 0.0}, {1, 0.5}});
}

TEST(EventFileWriter, SecondWriterInSameDirectoryDoesNotTruncateTheFirst) {
  TempDir tmp;
  EventFileWriter first(tmp.path());
  first.add_scalar("x", 1.0, 1);
  const auto size = std::filesystem::file_size(first.path());
  EventFileWriter second(tmp.path());
  EXPECT_NE(first.path(), second.path());
  EXPECT_EQ(std::filesystem::file_size(first.path()), size);
}

TEST(EventFileWriter, UnusableDirectoryNamesThePath) {
  TempDir tmp;
  const auto file = tmp.path() / "not_a_dir";
  std::ofstream(file) << "x";
  testing::expect_throw_with<UserError>([&] { EventFileWriter writer(file / "tb"); },
                                        (file / "tb").string());
}

}  // namespace
}  // namespace medtrain::metrics
