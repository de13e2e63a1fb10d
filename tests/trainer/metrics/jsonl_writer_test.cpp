// JsonlWriter: one compact object per line, appended across reopenings,
// readable while the writer is still open.
#include <gtest/gtest.h>

#include <fstream>
#include <limits>
#include <stdexcept>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "tests/trainer/metrics/test_util.h"
#include "trainer/metrics/jsonl_writer.h"
#include "trainer/user_error.h"

namespace medtrain::metrics {
namespace {

using nlohmann::json;
using testing::expect_throw_with;
using testing::TempDir;

std::vector<std::string> read_lines(const std::filesystem::path& path) {
  std::ifstream in(path);
  std::vector<std::string> lines;
  for (std::string line; std::getline(in, line);) lines.push_back(line);
  return lines;
}

TEST(JsonlWriter, AppendsOneParsableObjectPerLine) {
  TempDir tmp;
  const auto path = tmp.path() / "metrics.jsonl";
  const std::vector<json> records = {
      {{"step", 1}, {"loss", 0.693}, {"split", "train"}},
      {{"step", 2}, {"note", "two\nlines and \"quotes\" and \u00e9"}},
      {{"step", 3}, {"per_class", {{"auroc", {0.9, 0.8}}}}, {"ok", true}},
      {{"step", 4}, {"nothing", nullptr}},
      json::object(),
  };
  {
    JsonlWriter writer(path);
    writer.write(records[0]);
    writer.write(records[1]);
    // Flushed per record: visible before the writer closes.
    EXPECT_EQ(read_lines(path).size(), 2u);
  }
  {
    JsonlWriter writer(path);  // reopening appends, never truncates
    for (size_t i = 2; i < records.size(); ++i) writer.write(records[i]);
  }
  const auto lines = read_lines(path);
  ASSERT_EQ(lines.size(), records.size());
  for (size_t i = 0; i < lines.size(); ++i) {
    EXPECT_EQ(json::parse(lines[i]), records[i]) << "line " << i + 1 << ": " << lines[i];
    EXPECT_EQ(lines[i].find(": "), std::string::npos) << "not compact: " << lines[i];
  }
}

TEST(JsonlWriter, NonFiniteNumbersBecomeNull) {
  TempDir tmp;
  const auto path = tmp.path() / "m.jsonl";
  JsonlWriter(path).write({{"auroc", std::numeric_limits<double>::quiet_NaN()}});
  const auto lines = read_lines(path);
  ASSERT_EQ(lines.size(), 1u);
  EXPECT_TRUE(json::parse(lines[0]).at("auroc").is_null()) << lines[0];
}

TEST(JsonlWriter, RejectsNonObjectsAndNamesTheFile) {
  TempDir tmp;
  const auto path = tmp.path() / "m.jsonl";
  JsonlWriter writer(path);
  expect_throw_with<std::invalid_argument>([&] { writer.write(json::array({1, 2})); },
                                           "must be a JSON object, got array");
  expect_throw_with<std::invalid_argument>([&] { writer.write(json(3)); }, path.string());
  EXPECT_TRUE(read_lines(path).empty());
}

TEST(JsonlWriter, UnopenablePathNamesIt) {
  TempDir tmp;
  const auto path = tmp.path() / "missing_dir" / "m.jsonl";
  expect_throw_with<UserError>([&] { JsonlWriter writer(path); }, path.string());
}

}  // namespace
}  // namespace medtrain::metrics
