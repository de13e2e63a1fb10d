// --set section.key=value: applied after the files in order, parsed as YAML,
// and every bad override named as "--set <text>".
#include <gtest/gtest.h>

#include "tests/trainer/config/config_test_util.h"

namespace medtrain::config {
namespace {

using testing::contains;
using testing::error_of;
using testing::load_error;
using testing::TempDir;

std::string override_error(const std::vector<std::string>& overrides) {
  return error_of([&] { config_from_overrides(overrides); });
}

TEST(ConfigOverride, EveryTypeIsParsed) {
  const Config c = config_from_overrides({
      "optim.lr=3e-4", "run.epochs=12", "data.augment=false", "run.name=exp 1",
      "data.label_names=[normal, \"pleural effusion\"]", "run.device=cuda", "data.root='007'",
      " model.num_classes = 2",  // spaces around the key and value are fine
  });
  EXPECT_EQ(c.optim.lr, 3e-4);
  EXPECT_EQ(c.run.epochs, 12);
  EXPECT_FALSE(c.data.augment);
  EXPECT_EQ(c.run.name, "exp 1");
  EXPECT_EQ(c.data.label_names, (std::vector<std::string>{"normal", "pleural effusion"}));
  EXPECT_EQ(c.run.device, "cuda");
  EXPECT_EQ(c.data.root, "007");
  EXPECT_EQ(c.model.num_classes, 2);
  EXPECT_EQ(config_from_overrides({"data.label_names=[]"}).data.label_names.size(), 0u);
  EXPECT_EQ(config_from_overrides({"data.manifest="}).data.manifest, "");
  EXPECT_EQ(config_from_overrides({"data.manifest=a=b.csv"}).data.manifest, "a=b.csv");
}

TEST(ConfigOverride, AppliedAfterFilesInOrder) {
  TempDir dir;
  const auto file = dir.write("x.yaml", "optim:\n  lr: 0.1\n  batch_size: 8\n");
  const Config c = load_config(file, {"optim.lr=0.2", "run.seed=5", "optim.lr=0.3"});
  EXPECT_EQ(c.optim.lr, 0.3);
  EXPECT_EQ(c.optim.batch_size, 8);
  EXPECT_EQ(c.run.seed, 5);
  // An override can also repair a value the file left invalid across keys.
  const auto labels = dir.write("y.yaml", "data:\n  label_names: [a, b, c]\n");
  EXPECT_EQ(load_config(labels, {"model.num_classes=3"}).model.num_classes, 3);
}

TEST(ConfigOverride, BadValueNamesTheOverride) {
  EXPECT_EQ(override_error({"optim.lr=fast"}),
            "optim.lr (--set optim.lr=fast): expected a number, got \"fast\"");
  EXPECT_EQ(override_error({"optim.lr=-1"}), "optim.lr (--set optim.lr=-1): must be > 0, got -1");
  EXPECT_TRUE(contains(override_error({"run.epochs=1.5"}),
                       {"run.epochs (--set run.epochs=1.5)", "expected an integer"}));
  EXPECT_TRUE(contains(override_error({"data.shuffle=yes"}),
                       {"data.shuffle (--set data.shuffle=yes)", "true or false"}));
  EXPECT_TRUE(contains(override_error({"run.device=tpu"}),
                       {"run.device (--set run.device=tpu)", "auto, cpu, cuda"}));
  EXPECT_TRUE(contains(override_error({"optim.lr=[1, 2]"}), {"got a list"}));
  EXPECT_TRUE(contains(override_error({"data.label_names=a"}), {"expected a list of strings"}));
  EXPECT_TRUE(contains(override_error({"optim.lr="}), {"(--set optim.lr=)", "got nothing"}));
}

TEST(ConfigOverride, TheFirstBadOverrideIsReportedEvenIfALaterOneFixesIt) {
  EXPECT_TRUE(contains(override_error({"optim.lr=-1", "optim.lr=0.1"}), {"--set optim.lr=-1"}));
}

TEST(ConfigOverride, YamlSyntaxErrorInValue) {
  EXPECT_TRUE(contains(override_error({"data.label_names=[a, b"}),
                       {"data.label_names (--set data.label_names=[a, b)", "YAML syntax error"}));
}

TEST(ConfigOverride, MalformedOverride) {
  EXPECT_TRUE(contains(override_error({"foo"}),
                       {"malformed override --set \"foo\"", "expected section.key=value"}));
  EXPECT_TRUE(contains(override_error({"=3"}), {"expected section.key=value"}));
  EXPECT_TRUE(contains(override_error({""}), {"expected section.key=value"}));
  EXPECT_TRUE(contains(override_error({"optim=3"}), {"optim is a section", "optim.<key>="}));
}

TEST(ConfigOverride, UnknownKeySuggests) {
  EXPECT_EQ(override_error({"optim.lrr=3"}),
            "unknown key optim.lrr (--set optim.lrr=3); did you mean optim.lr?");
  EXPECT_TRUE(contains(override_error({"run.lr=3"}), {"did you mean optim.lr?"}));
  EXPECT_TRUE(contains(override_error({"lr=3"}), {"unknown key lr (--set lr=3)", "optim.lr"}));
  EXPECT_TRUE(contains(override_error({"foo.bar=1"}),
                       {"unknown key foo.bar (--set foo.bar=1)", "docs/config.md"}));
}

TEST(ConfigOverride, BadOverrideAfterAGoodFile) {
  TempDir dir;
  const auto file = dir.write("x.yaml", "optim:\n  lr: 0.1\n");
  EXPECT_TRUE(contains(load_error(file, {"optim.batch_size=0"}),
                       {"optim.batch_size (--set optim.batch_size=0)", ">= 1"}));
}

}  // namespace
}  // namespace medtrain::config
