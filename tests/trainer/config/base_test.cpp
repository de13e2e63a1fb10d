// `base:` chains: deep merge key by key, each value (and each error) attributed
// to the file and line it came from, cycles and missing bases reported.
#include <gtest/gtest.h>

#include "tests/trainer/config/config_test_util.h"

namespace medtrain::config {
namespace {

using testing::contains;
using testing::load_error;
using testing::TempDir;
using testing::where;

TEST(ConfigBase, ChildOverridesBaseKeyByKey) {
  TempDir dir;
  dir.write("base.yaml",
            "run:\n  name: base\n  epochs: 5\n"
            "optim:\n  lr: 0.1\n  batch_size: 16\n"
            "data:\n  label_names: [a, b]\n");
  const auto child = dir.write("child.yaml",
                               "base: base.yaml\n"
                               "optim:\n  lr: 0.01\n"
                               "data:\n  label_names: [x, y]\n");
  const Config c = load_config(child);
  EXPECT_EQ(c.optim.lr, 0.01);        // child wins
  EXPECT_EQ(c.optim.batch_size, 16);  // same section, key only in the base: kept
  EXPECT_EQ(c.run.name, "base");      // section only in the base: kept
  EXPECT_EQ(c.run.epochs, 5);
  EXPECT_EQ(c.data.label_names, (std::vector<std::string>{"x", "y"}));  // lists are replaced
  EXPECT_EQ(c.optim.eps, Config{}.optim.eps);                           // in neither: default
}

TEST(ConfigBase, BaseWrittenLastStillLoadsFirst) {
  TempDir dir;
  dir.write("base.yaml", "optim:\n  lr: 0.1\n");
  const auto child = dir.write("child.yaml", "optim:\n  lr: 0.5\nbase: base.yaml\n");
  EXPECT_EQ(load_config(child).optim.lr, 0.5);
}

TEST(ConfigBase, ChainOfThreeWithPathsRelativeToEachFile) {
  TempDir dir;
  dir.write("root.yaml", "run:\n  seed: 1\n  epochs: 2\n  name: root\n");
  dir.write("common/mid.yaml", "base: ../root.yaml\nrun:\n  seed: 2\n  epochs: 3\n");
  const auto leaf = dir.write("exp/leaf.yaml", "base: ../common/mid.yaml\nrun:\n  seed: 3\n");
  const Config c = load_config(leaf);
  EXPECT_EQ(c.run.seed, 3);
  EXPECT_EQ(c.run.epochs, 3);
  EXPECT_EQ(c.run.name, "root");
}

TEST(ConfigBase, ErrorInBaseNamesTheBaseFileAndLine) {
  TempDir dir;
  const std::string base_text = "run:\n  name: b\noptim:\n  lr: fast\n";
  const auto base = dir.write("base.yaml", base_text);
  const auto child = dir.write("child.yaml", "base: base.yaml\nrun:\n  epochs: 2\n");
  EXPECT_EQ(load_error(child),
            "optim.lr (" + where(base, base_text, "lr:") + "): expected a number, got \"fast\"");
}

// Each file is checked as read (docs/config.md says so): a child setting the
// key again does not hide a bad value in its base.
TEST(ConfigBase, BadValueInBaseIsAnErrorEvenWhenTheChildSetsTheKey) {
  TempDir dir;
  const std::string base_text = "optim:\n  lr: -1\n";
  const auto base = dir.write("base.yaml", base_text);
  const auto child = dir.write("child.yaml", "base: base.yaml\noptim:\n  lr: 0.1\n");
  EXPECT_EQ(load_error(child),
            "optim.lr (" + where(base, base_text, "lr:") + "): must be > 0, got -1");
}

TEST(ConfigBase, ErrorInChildNamesTheChildFileAndLine) {
  TempDir dir;
  dir.write("base.yaml", "optim:\n  lr: 0.1\n");
  const std::string child_text = "base: base.yaml\n\noptim:\n  lr: -1\n";
  const auto child = dir.write("child.yaml", child_text);
  EXPECT_EQ(load_error(child),
            "optim.lr (" + where(child, child_text, "lr:") + "): must be > 0, got -1");
}

TEST(ConfigBase, CrossKeyErrorNamesWhereEachValueCameFrom) {
  TempDir dir;
  const std::string base_text = "# shared\ndata:\n  root: /r\n  label_names: [a, b, c]\n";
  const auto base = dir.write("base.yaml", base_text);
  const std::string child_text = "base: base.yaml\nmodel:\n  num_classes: 4\n";
  const auto child = dir.write("child.yaml", child_text);
  EXPECT_TRUE(
      contains(load_error(child),
               {"data.label_names (" + where(base, base_text, "label_names") + ")",
                "model.num_classes (" + where(child, child_text, "num_classes") + ") is 4"}));
  // The same rule against an override: the --set is named as the source.
  EXPECT_TRUE(contains(load_error(child, {"model.num_classes=2"}),
                       {"model.num_classes (--set model.num_classes=2) is 2"}));
}

TEST(ConfigBase, UnknownKeyInBaseNamesTheBase) {
  TempDir dir;
  const std::string base_text = "optim:\n  lr: 0.1\n  wd: 0\n";
  const auto base = dir.write("base.yaml", base_text);
  const auto child = dir.write("child.yaml", "base: base.yaml\n");
  EXPECT_TRUE(contains(load_error(child),
                       {"unknown key optim.wd (" + where(base, base_text, "wd:") + ")"}));
}

TEST(ConfigBase, CycleNamesTheFiles) {
  TempDir dir;
  const auto a = dir.write("a.yaml", "base: b.yaml\nrun:\n  seed: 1\n");
  const auto b = dir.write("b.yaml", "run:\n  seed: 2\nbase: a.yaml\n");
  const std::string msg = load_error(a);
  EXPECT_TRUE(contains(msg, {"cycle", a.string() + " -> " + b.string(),
                             b.string() + ":3"}));  // where the closing base: is
  const auto self = dir.write("self.yaml", "base: ./self.yaml\n");
  EXPECT_TRUE(contains(load_error(self), {"cycle", self.string()}));
}

TEST(ConfigBase, MissingBaseNamesFileAndWhoNamedIt) {
  TempDir dir;
  const std::string text = "run:\n  seed: 1\nbase: nope.yaml\n";
  const auto child = dir.write("child.yaml", text);
  EXPECT_EQ(load_error(child), "config file " + (dir.path() / "nope.yaml").string() +
                                   ": no such file (base: of " + where(child, text, "base:") + ")");
}

TEST(ConfigBase, BaseMustBeAFileName) {
  TempDir dir;
  for (const std::string value : {"[a.yaml]", "{a: 1}", "\"\""}) {
    const std::string text = "run:\n  seed: 1\nbase: " + value + "\n";
    const auto child = dir.write("child.yaml", text);
    EXPECT_TRUE(contains(load_error(child), {"base (" + where(child, text, "base:") + ")",
                                             "expected the path of a YAML file"}));
  }
}

TEST(ConfigBase, SyntaxErrorInBase) {
  TempDir dir;
  const auto base = dir.write("base.yaml", "run:\n  name: [unclosed\n");
  const auto child = dir.write("child.yaml", "base: base.yaml\n");
  EXPECT_TRUE(contains(load_error(child), {base.string() + ":", "YAML syntax error"}));
}

}  // namespace
}  // namespace medtrain::config
