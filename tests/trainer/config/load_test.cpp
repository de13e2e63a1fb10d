// Loading a YAML file: values land in the right members, and every malformed
// file is a ConfigError naming the key path and file:line.
#include <gtest/gtest.h>
#include <sys/stat.h>

#include "tests/trainer/config/config_test_util.h"

namespace medtrain::config {
namespace {

using testing::contains;
using testing::load_error;
using testing::TempDir;
using testing::where;

TEST(ConfigLoad, ValidFileSetsNamedMembersAndKeepsOtherDefaults) {
  TempDir dir;
  const std::string text =
      "# a comment\n"
      "run:\n"
      "  name: cxr-baseline\n"
      "  epochs: 7\n"
      "  device: cpu\n"
      "data:\n"
      "  root: /nas/cxr\n"
      "  label_names: [normal, effusion, nodule]\n"
      "  window_center: -600\n"
      "  augment: false\n"
      "model:\n"
      "  num_classes: 3\n"
      "optim:\n"
      "  lr: 3e-4\n"
      "checkpoint:\n"
      "  best_mode: min\n";
  const auto file = dir.write("x.yaml", text);

  const Config c = load_config(file);
  const Config d;
  EXPECT_EQ(c.run.name, "cxr-baseline");
  EXPECT_EQ(c.run.epochs, 7);
  EXPECT_EQ(c.run.device, "cpu");
  EXPECT_EQ(c.data.root, "/nas/cxr");
  EXPECT_EQ(c.data.label_names, (std::vector<std::string>{"normal", "effusion", "nodule"}));
  EXPECT_EQ(c.data.window_center, -600.0);
  EXPECT_FALSE(c.data.augment);
  EXPECT_EQ(c.model.num_classes, 3);
  EXPECT_EQ(c.optim.lr, 3e-4);
  EXPECT_EQ(c.checkpoint.best_mode, "min");
  // Untouched keys keep the defaults of config.h.
  EXPECT_EQ(c.run.seed, d.run.seed);
  EXPECT_EQ(c.optim.batch_size, d.optim.batch_size);
  EXPECT_EQ(c.data.window_width, d.data.window_width);
  EXPECT_EQ(c.log.progress, d.log.progress);
}

TEST(ConfigLoad, EmptyFileAndEmptySectionGiveDefaults) {
  TempDir dir;
  EXPECT_EQ(to_yaml(load_config(dir.write("empty.yaml", ""))), to_yaml(Config{}));
  EXPECT_EQ(to_yaml(load_config(dir.write("comments.yaml", "# nothing\n"))), to_yaml(Config{}));
  EXPECT_EQ(to_yaml(load_config(dir.write("sec.yaml", "optim:\n  # lr: 1\nrun:\n"))),
            to_yaml(Config{}));
}

TEST(ConfigLoad, ScalarForms) {
  TempDir dir;
  const auto file =
      dir.write("x.yaml",
                "run: {seed: +42, max_steps: 0}\n"
                "data: {mean: 1, std: .5, root: , manifest: \"m.csv\", shuffle: False}\n"
                "optim: {eps: 1E-6, nesterov: TRUE, grad_clip_norm: 2.}\n"
                "dist: {timeout_s: 1e3}\n");
  const Config c = load_config(file);
  EXPECT_EQ(c.run.seed, 42);
  EXPECT_EQ(c.data.mean, 1.0);  // an integer is a valid float
  EXPECT_EQ(c.data.std, 0.5);
  EXPECT_EQ(c.data.root, "");  // an empty value is the empty string
  EXPECT_EQ(c.data.manifest, "m.csv");
  EXPECT_FALSE(c.data.shuffle);
  EXPECT_EQ(c.optim.eps, 1e-6);
  EXPECT_TRUE(c.optim.nesterov);
  EXPECT_EQ(c.optim.grad_clip_norm, 2.0);
  EXPECT_EQ(c.dist.timeout_s, 1000.0);
}

// One bad value in a file, and what the error must say besides the key path
// and file:line.
struct BadValue {
  std::string section, key, value, says;
};

void PrintTo(const BadValue& p, std::ostream* os) {
  *os << p.section << "." << p.key << ": " << p.value;
}

class ConfigBadValue : public ::testing::TestWithParam<BadValue> {};

TEST_P(ConfigBadValue, NamesKeyPathFileAndLine) {
  const BadValue& p = GetParam();
  TempDir dir;
  const std::string text =
      "# one bad value\n\n" + p.section + ":\n  " + p.key + ": " + p.value + "\n";
  const auto file = dir.write("bad.yaml", text);
  const std::string msg = load_error(file);
  EXPECT_TRUE(contains(
      msg, {p.section + "." + p.key + " (" + where(file, text, p.key + ":") + ")", p.says}));
}

INSTANTIATE_TEST_SUITE_P(
    TypeErrors, ConfigBadValue,
    ::testing::Values(BadValue{"optim", "lr", "fast", "expected a number, got \"fast\""},
                      BadValue{"optim", "lr", "0x10", "expected a number"},
                      BadValue{"optim", "lr", "nan", "expected a number"},
                      BadValue{"optim", "lr", ".inf", "expected a number"},
                      BadValue{"optim", "lr", "1e999", "out of range"},
                      BadValue{"optim", "lr", "[1, 2]", "got a list"},
                      BadValue{"optim", "lr", "{a: 1}", "got a mapping"},
                      BadValue{"optim", "lr", "", "got nothing"},
                      BadValue{"run", "epochs", "1.5", "expected an integer, got \"1.5\""},
                      BadValue{"run", "epochs", "abc", "expected an integer, got \"abc\""},
                      BadValue{"run", "epochs", "2.0", "expected an integer"},
                      BadValue{"run", "seed", "99999999999999999999", "out of range"},
                      BadValue{"run", "seed", "-99999999999999999999", "out of range"},
                      BadValue{"data", "augment", "yes", "expected true or false, got \"yes\""},
                      BadValue{"data", "augment", "1", "expected true or false"},
                      BadValue{"data", "augment", "[true]", "got a list"},
                      BadValue{"run", "name", "[a, b]", "expected a string, got a list"},
                      BadValue{"run", "device", "{x: 1}", "got a mapping"},
                      BadValue{"data", "label_names", "normal", "expected a list of strings"},
                      BadValue{"data", "label_names", "{a: 1}", "expected a list of strings"}));

// Ranges and choices as the brief states them (written here, not copied from
// the key table).
INSTANTIATE_TEST_SUITE_P(
    RangeErrors, ConfigBadValue,
    ::testing::Values(
        BadValue{"optim", "lr", "-0.1", "must be > 0, got -0.1"},
        BadValue{"optim", "lr", "0", "must be > 0"},
        BadValue{"optim", "weight_decay", "-1e-5", "must be >= 0"},
        BadValue{"optim", "beta1", "1", "< 1"}, BadValue{"optim", "beta1", "-0.1", ">= 0"},
        BadValue{"optim", "beta2", "1.0", "< 1"}, BadValue{"optim", "eps", "0", "> 0"},
        BadValue{"optim", "momentum", "1", "< 1"}, BadValue{"optim", "batch_size", "0", ">= 1"},
        BadValue{"optim", "grad_accum_steps", "0", ">= 1"},
        BadValue{"optim", "grad_clip_norm", "-1", ">= 0"}, BadValue{"run", "epochs", "0", ">= 1"},
        BadValue{"run", "max_steps", "-1", ">= 0"}, BadValue{"run", "seed", "-1", ">= 0"},
        BadValue{"run", "threads", "-2", ">= 0"}, BadValue{"data", "image_size", "7", ">= 8"},
        BadValue{"data", "image_size", "4097", "<= 4096"},
        BadValue{"data", "window_width", "0", "> 0"}, BadValue{"data", "std", "-0.5", ">= 1e-06"},
        BadValue{"data", "workers", "-1", ">= 0"},
        BadValue{"data", "prefetch_batches", "0", ">= 1"},
        BadValue{"data", "read_retries", "-1", ">= 0"}, BadValue{"data", "read_retries", "101", "<= 100"},
        BadValue{"data", "read_retry_backoff_ms", "60001", "<= 60000"},
        BadValue{"data", "read_timeout_s", "-1", ">= 0"},
        BadValue{"data", "read_timeout_s", "nan", "expected a number"},
        BadValue{"checkpoint", "max_failed_saves", "0", ">= 1"},
        BadValue{"model", "num_classes", "0", ">= 1"},
        BadValue{"checkpoint", "keep_last", "0", ">= 1"},
        BadValue{"checkpoint", "every_steps", "-1", ">= 0"},
        BadValue{"log", "every_steps", "0", ">= 1"}, BadValue{"dist", "bucket_mb", "0", "> 0"},
        BadValue{"dist", "timeout_s", "-5", "> 0"}, BadValue{"schedule", "gamma", "0", "> 0"},
        BadValue{"run", "device", "gpu", "must be one of auto, cpu, cuda; got \"gpu\""},
        BadValue{"run", "precision", "fp64", "fp32, bf16, fp16"},
        BadValue{"data", "on_error", "ignore", "fail, skip"},
        BadValue{"data", "dataset", "png", "dicom"},
        BadValue{"optim", "name", "adam", "adamw, sgd"},
        BadValue{"schedule", "name", "exponential", "constant, cosine, linear, step"},
        BadValue{"dist", "backend", "gloo", "auto, nccl, mpi"},
        BadValue{"checkpoint", "best_mode", "up", "max, min"},
        BadValue{"log", "progress", "fancy", "auto, bar, plain, none"},
        BadValue{"run", "device", "CPU", "one of"},
        BadValue{"model", "name", "\"\"", "must not be empty"},
        BadValue{"model", "name", "", "must not be empty"},
        BadValue{"data", "label_names", "[a, \"\"]", "must not be empty"},
        BadValue{"data", "label_names", "[a, b, a]", "distinct"}));

// Issue 21 D2/D4: values that passed as double but broke as float32, and run
// names that put the run outside run.output_dir.
INSTANTIATE_TEST_SUITE_P(
    HostileValues, ConfigBadValue,
    ::testing::Values(BadValue{"data", "std", "1e-320", ">= 1e-06"},
                      BadValue{"data", "mean", "1e308", "<= 1000"},
                      BadValue{"data", "window_center", "1e300", "<= 10000000"},
                      BadValue{"optim", "lr", "1e39", "representable as a float32"},
                      BadValue{"optim", "eps", "1e-320", "representable as a float32"},
                      BadValue{"run", "name", "/abs/path", "must be one folder name"},
                      BadValue{"run", "name", "../x", "must be one folder name"},
                      BadValue{"run", "name", "a/b", "must be one folder name"},
                      BadValue{"run", "name", ".", "must be one folder name"},
                      BadValue{"run", "name", "..", "must be one folder name"},
                      BadValue{"run", "name", "/", "must be one folder name"}));

TEST(ConfigLoad, DevicesAndFifosAreRefusedBeforeReading) {
  TempDir dir;
  const auto fifo = dir.path() / "pipe.yaml";
  ASSERT_EQ(::mkfifo(fifo.c_str(), 0600), 0);
  EXPECT_TRUE(contains(load_error(fifo), {"pipe.yaml", "a FIFO, expected a regular file"}));
  EXPECT_TRUE(contains(load_error("/dev/zero"), {"/dev/zero", "a character device"}));
  const auto base = dir.write("with_base.yaml", "base: /dev/zero\n");
  EXPECT_TRUE(contains(load_error(base), {"/dev/zero", "a character device"}));
  const auto big = dir.write("big.yaml", "# " + std::string(5u << 20, 'x') + "\n");
  EXPECT_TRUE(contains(load_error(big), {"big.yaml", "more than the"}));
}

TEST(ConfigLoad, BoundaryValuesAreAccepted) {
  TempDir dir;
  const auto file = dir.write("edge.yaml",
                              "data: {image_size: 8, workers: 0, prefetch_batches: 1}\n"
                              "optim: {beta1: 0, beta2: 0.9999999, weight_decay: 0, momentum: 0}\n"
                              "run: {max_steps: 0, seed: 9223372036854775807}\n"
                              "schedule: {gamma: 1}\n");
  const Config c = load_config(file);
  EXPECT_EQ(c.data.image_size, 8);
  EXPECT_EQ(c.run.seed, INT64_MAX);
  EXPECT_EQ(load_config(dir.write("big.yaml", "data: {image_size: 4096}\n")).data.image_size, 4096);
}

TEST(ConfigLoad, ListElementErrorNamesIndexAndLine) {
  TempDir dir;
  const std::string text = "data:\n  label_names:\n    - a\n    - [b]\n";
  const auto file = dir.write("x.yaml", text);
  EXPECT_TRUE(
      contains(load_error(file), {"data.label_names[1] (" + where(file, text, "- [b]") + ")"}));
}

TEST(ConfigLoad, UnknownKeySuggestsTheNearestKey) {
  TempDir dir;
  const std::string text = "run:\n  name: a\noptim:\n  batch_size: 4\n  lrr: 0.1\n";
  const auto file = dir.write("x.yaml", text);
  EXPECT_EQ(load_error(file),
            "unknown key optim.lrr (" + where(file, text, "lrr:") + "); did you mean optim.lr?");
}

TEST(ConfigLoad, UnknownKeyInWrongSectionSuggestsItsSection) {
  TempDir dir;
  const std::string text = "run:\n  lr: 0.1\n";
  const auto file = dir.write("x.yaml", text);
  EXPECT_TRUE(contains(load_error(file), {"unknown key run.lr (" + where(file, text, "lr:") + ")",
                                          "did you mean optim.lr?"}));
}

TEST(ConfigLoad, UnknownKeyWithoutNearMatchListsTheSectionsKeys) {
  TempDir dir;
  const std::string text = "dist:\n  zzzzzzzz: 1\n";
  const auto file = dir.write("x.yaml", text);
  EXPECT_TRUE(
      contains(load_error(file), {"unknown key dist.zzzzzzzz (" + where(file, text, "zzz") + ")",
                                  "backend, bucket_mb, first_bucket_mb, timeout_s"}));
}

TEST(ConfigLoad, UnknownSection) {
  TempDir dir;
  const std::string text = "run:\n  name: a\n\nfoo:\n  bar: 1\n";
  const auto file = dir.write("x.yaml", text);
  EXPECT_EQ(load_error(file),
            "unknown section foo (" + where(file, text, "foo:") +
                "); sections are run, data, model, optim, schedule, dist, checkpoint, log, kernels");
  const std::string typo = "optimm:\n  lr: 1\n";
  EXPECT_TRUE(contains(load_error(dir.write("t.yaml", typo)), {"did you mean optim?"}));
  const std::string top = "epochs: 3\n";
  EXPECT_TRUE(contains(load_error(dir.write("k.yaml", top)),
                       {"unknown section epochs", "did you mean run.epochs?"}));
}

TEST(ConfigLoad, SectionThatIsNotAMapping) {
  TempDir dir;
  for (const std::string value : {"3", "[lr, 1]", "fast"}) {
    const std::string text = "run:\n  name: a\noptim: " + value + "\n";
    const auto file = dir.write("x.yaml", text);
    EXPECT_TRUE(contains(load_error(file),
                         {"optim (" + where(file, text, "optim:") + ")", "expected a section"}));
  }
}

TEST(ConfigLoad, DuplicateKey) {
  TempDir dir;
  const std::string text = "optim:\n  lr: 1\n  lr: 2\n";
  const auto file = dir.write("x.yaml", text);
  EXPECT_EQ(load_error(file), "duplicate key optim.lr (" + file.string() + ":3)");
  const std::string sections = "run: {}\nrun: {}\n";
  EXPECT_TRUE(contains(load_error(dir.write("y.yaml", sections)), {"duplicate key run"}));
}

TEST(ConfigLoad, TopLevelMustBeSections) {
  TempDir dir;
  EXPECT_TRUE(contains(load_error(dir.write("l.yaml", "- run\n- data\n")),
                       {(dir.path() / "l.yaml").string() + ":1", "got a list"}));
  EXPECT_TRUE(contains(load_error(dir.write("s.yaml", "hello\n")), {"expected sections"}));
  EXPECT_TRUE(contains(load_error(dir.write("k.yaml", "[a]: 1\n")), {"keys must be plain names"}));
}

TEST(ConfigLoad, MissingFileAndDirectory) {
  TempDir dir;
  const auto nope = dir.path() / "configs" / "nope.yaml";
  EXPECT_EQ(load_error(nope), "config file " + nope.string() + ": no such file");
  EXPECT_TRUE(contains(load_error(dir.path()), {dir.path().string(), "is a directory"}));
}

TEST(ConfigLoad, YamlSyntaxErrorNamesFileAndLine) {
  TempDir dir;
  const std::string text = "run:\n  name: a\noptim:\n  lr: [1, 2\n  eps: 1\n";
  const auto file = dir.write("x.yaml", text);
  const std::string msg = load_error(file);
  EXPECT_TRUE(contains(msg, {file.string() + ":"}));
  EXPECT_TRUE(contains(msg, {": YAML syntax error: "}));
  const std::string indent = "run:\n  name: a\n   seed: 1\n";
  const auto bad_indent = dir.write("y.yaml", indent);
  EXPECT_TRUE(contains(load_error(bad_indent),
                       {where(bad_indent, indent, "seed") + ": YAML syntax error: "}));
}

TEST(ConfigLoad, LabelNamesMustMatchNumClasses) {
  TempDir dir;
  const std::string text = "data:\n  label_names: [a, b, c]\nmodel:\n  num_classes: 2\n";
  const auto file = dir.write("x.yaml", text);
  EXPECT_TRUE(
      contains(load_error(file),
               {"data.label_names (" + where(file, text, "label_names") + ")", "has 3 names",
                "model.num_classes (" + where(file, text, "num_classes") + ")"}));
  const auto ok =
      dir.write("ok.yaml", "data:\n  label_names: [a, b, c]\nmodel:\n  num_classes: 3\n");
  EXPECT_EQ(load_config(ok).data.label_names.size(), 3u);
}

TEST(ConfigLoad, NesterovNeedsMomentum) {
  TempDir dir;
  const std::string text = "optim:\n  name: sgd\n  momentum: 0\n  nesterov: true\n";
  const auto file = dir.write("x.yaml", text);
  EXPECT_TRUE(contains(load_error(file), {"optim.nesterov (" + where(file, text, "nesterov") + ")",
                                          "optim.momentum"}));
}

}  // namespace
}  // namespace medtrain::config
