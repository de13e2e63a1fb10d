// docs/config.md is the generated reference and must not drift from the table.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "tests/trainer/config/config_test_util.h"
#include "trainer/config/config_loader.h"
#include "trainer/config/config_schema.h"

namespace medtrain::config {
namespace {

using testing::contains;

TEST(ConfigDocs, DocsConfigMdIsUpToDate) {
  const std::filesystem::path doc =
      std::filesystem::path(MEDTRAIN_SOURCE_DIR) / "docs" / "config.md";
  std::ifstream in(doc, std::ios::binary);
  std::stringstream text;
  text << in.rdbuf();
  const std::string expected = config_reference_markdown();
  if (text.str() == expected) return;
  // Leave the fresh text beside the test so that it can be inspected or copied.
  const auto fresh = std::filesystem::path(::testing::TempDir()) / "config.md";
  std::ofstream(fresh, std::ios::binary) << expected;
  FAIL() << doc << " is out of date with trainer/config/config_schema.cpp (or missing).\n"
         << "Regenerate it: build/medtrain config docs > docs/config.md\n"
         << "(the generated text was also written to " << fresh << ")";
}

TEST(ConfigDocs, ReferenceListsEveryKeyWithItsDefault) {
  const std::string md = config_reference_markdown();
  EXPECT_TRUE(contains(md, {"base:"}));
  EXPECT_TRUE(contains(md, {"--set"}));
  for (const auto& section : detail::section_table()) {
    EXPECT_TRUE(contains(md, {"\n## " + section.name + "\n"})) << section.name;
  }
  EXPECT_TRUE(contains(md, {"| `optim.lr` | float | `0.001` | > 0 |"}));
  EXPECT_TRUE(contains(md, {"| `run.device` | enum | `auto` | `auto`, `cpu`, `cuda` |"}));
  EXPECT_TRUE(contains(md, {"| `data.image_size` | int | `128` | >= 8 and <= 4096 |"}));
  EXPECT_TRUE(contains(md, {"| `data.root` | string | `\"\"` |"}));
  EXPECT_TRUE(contains(md, {"| `data.label_names` | list of strings | `[]` |"}));
  for (const auto& spec : detail::key_table()) {
    EXPECT_TRUE(contains(md, {"| `" + spec.path + "` |"})) << spec.path;
  }
}

}  // namespace
}  // namespace medtrain::config
