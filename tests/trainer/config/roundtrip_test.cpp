// to_yaml prints every key so that load_config reads back the same Config,
// and the key table covers every member of every struct in config.h.
#include <fmt/format.h>
#include <gtest/gtest.h>
#include <yaml-cpp/yaml.h>

#include <cmath>
#include <optional>
#include <set>
#include <sstream>
#include <utility>

#include "tests/trainer/config/config_test_util.h"
#include "trainer/config/config_schema.h"
#include "trainer/config/config_value.h"

namespace medtrain::config {
namespace {

using testing::contains;
using testing::TempDir;

Config reload(const Config& c) {
  TempDir dir;
  return load_config(dir.write("resolved.yaml", to_yaml(c)));
}

std::vector<std::string> lines_of(const std::string& text) {
  std::vector<std::string> lines;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) lines.push_back(line);
  return lines;
}

TEST(ConfigRoundTrip, Defaults) {
  const Config d;
  EXPECT_EQ(to_yaml(reload(d)), to_yaml(d));
}

TEST(ConfigRoundTrip, ManyNonDefaultValuesReadBackExactly) {
  Config c;
  c.run.name = "exp: 1 # not a comment";
  c.run.output_dir = "/nas/runs with space";
  c.run.seed = INT64_MAX;
  c.run.device = "cuda";
  c.data.root = "";
  c.data.manifest = "yes";  // a YAML 1.1 boolean word, must stay a string
  c.data.train_split = "123";
  c.data.val_split = "null";
  c.data.label_names = {"a,b", "[c]", "quote\"back\\slash", "tab\tnew\nline", "ünï", "~",
                        "-",   "true"};
  c.model.num_classes = 8;
  c.data.window_center = -1024.5;
  c.data.window_width = 0.1 + 0.2;  // 0.30000000000000004: needs 17 digits
  c.data.mean = 1.0 / 3.0;
  c.data.std = 0.1 + 0.7;  // 0.7999999999999999
  c.data.augment = false;
  c.optim.lr = 123456789.123456789;
  c.optim.eps = 1.1754943508222875e-38;  // the smallest normal float32, as a double
  c.optim.weight_decay = 0;
  c.schedule.min_lr = 1e22;
  c.dist.bucket_mb = 3;
  c.checkpoint.best_metric = "val/loss";
  c.log.progress = "none";
  const Config r = reload(c);
  EXPECT_EQ(r.run.name, c.run.name);
  EXPECT_EQ(r.run.output_dir, c.run.output_dir);
  EXPECT_EQ(r.run.seed, c.run.seed);
  EXPECT_EQ(r.data.root, c.data.root);
  EXPECT_EQ(r.data.manifest, c.data.manifest);
  EXPECT_EQ(r.data.train_split, c.data.train_split);
  EXPECT_EQ(r.data.val_split, c.data.val_split);
  EXPECT_EQ(r.data.label_names, c.data.label_names);
  // Bit-exact doubles, not "near".
  EXPECT_EQ(r.data.window_center, c.data.window_center);
  EXPECT_EQ(r.data.window_width, c.data.window_width);
  EXPECT_EQ(r.data.mean, c.data.mean);
  EXPECT_EQ(r.data.std, c.data.std);
  EXPECT_EQ(r.optim.lr, c.optim.lr);
  EXPECT_EQ(r.optim.eps, c.optim.eps);
  EXPECT_EQ(r.schedule.min_lr, c.schedule.min_lr);
  EXPECT_EQ(r.dist.bucket_mb, c.dist.bucket_mb);
  EXPECT_EQ(to_yaml(r), to_yaml(c));
}

// Independent of our loader: yaml-cpp itself reads to_yaml as sections in
// config.h order, each with one scalar or list per key.
TEST(ConfigRoundTrip, ToYamlIsPlainYamlInSectionOrder) {
  const YAML::Node root = YAML::Load(to_yaml(Config{}));
  const std::vector<std::string> expected = {"run",      "data", "model",      "optim",
                                             "schedule", "dist", "checkpoint", "log", "kernels"};
  std::vector<std::string> got;
  for (const auto& kv : root) got.push_back(kv.first.Scalar());
  EXPECT_EQ(got, expected);
  EXPECT_EQ(root["optim"]["lr"].as<double>(), Config{}.optim.lr);
  EXPECT_EQ(root["data"]["image_size"].as<int64_t>(), Config{}.data.image_size);
  EXPECT_EQ(root["checkpoint"]["best_metric"].as<std::string>(), Config{}.checkpoint.best_metric);
  EXPECT_EQ(root["data"]["root"].as<std::string>(), "");
  EXPECT_TRUE(root["data"]["label_names"].IsSequence());
}

// Quoting follows YAML's rules, so other YAML readers (PyYAML, yaml-cpp's
// as<bool>) see the same strings: words YAML 1.1 reads as booleans or null,
// numbers, and text with YAML punctuation are quoted; plain names are not.
TEST(ConfigRoundTrip, StringsThatYamlWouldMisreadAreQuoted) {
  for (const std::string s :
       {"yes", "No", "on",    "OFF",  "true", "null", "~",   "123",  "1e3", "-1",
        ".5",  "",   " lead", "a: b", "#x",   "[x]",  "{x}", "x, y", "*x",  "&x",
        "!x",  "%x", "@x",    "`x",   "|x",   ">x",   "'x",  "-"}) {
    const std::string text = detail::format_value(detail::Value(s));
    EXPECT_EQ(text.front(), '"') << s << " -> " << text;
    EXPECT_EQ(YAML::Load(text).Tag(), "!") << s;  // yaml-cpp: a quoted, non-specific scalar
    EXPECT_EQ(YAML::Load(text).Scalar(), s);
  }
  for (const std::string s : {"resnet18", "val/auroc", "/nas/data", "runs", "exp_1.v2-b"}) {
    EXPECT_EQ(detail::format_value(detail::Value(s)), s);
  }
  EXPECT_EQ(detail::format_value(detail::Value(std::string("a\"\\\n"))), "\"a\\\"\\\\\\n\"");
}

// Counts the members of an aggregate: the largest N for which T{x1..xN}
// compiles, x converting to any member type (the Boost.PFR technique).
struct AnyMember {
  template <class T>
  operator T() const;  // never defined: only used in unevaluated context
};

template <class T, class... A>
constexpr auto brace_constructible(int) -> decltype(T{std::declval<A>()...}, true) {
  return true;
}
template <class T, class... A>
constexpr bool brace_constructible(...) {
  return false;
}

template <class T, class... A>
constexpr std::size_t member_count() {
  if constexpr (brace_constructible<T, A..., AnyMember>(0)) {
    return member_count<T, A..., AnyMember>();
  } else {
    return sizeof...(A);
  }
}

std::size_t keys_in(const std::string& section) {
  std::size_t n = 0;
  for (const auto& spec : detail::key_table()) n += spec.section == section ? 1 : 0;
  return n;
}

TEST(ConfigCoverage, TableHasOneKeyPerStructMember) {
  EXPECT_EQ(member_count<Config>(), detail::section_table().size())
      << "a section of Config is not in the table";
  EXPECT_EQ(member_count<RunConfig>(), keys_in("run"));
  EXPECT_EQ(member_count<DataConfig>(), keys_in("data"));
  EXPECT_EQ(member_count<ModelConfig>(), keys_in("model"));
  EXPECT_EQ(member_count<OptimConfig>(), keys_in("optim"));
  EXPECT_EQ(member_count<ScheduleConfig>(), keys_in("schedule"));
  EXPECT_EQ(member_count<DistConfig>(), keys_in("dist"));
  EXPECT_EQ(member_count<CheckpointConfig>(), keys_in("checkpoint"));
  EXPECT_EQ(member_count<LogConfig>(), keys_in("log"));
}

// A value of the same type as `v` that differs from it (valid or not: this
// exercises the binding, not the validation).
detail::Value different(const detail::Value& v) {
  struct Change {
    detail::Value operator()(int64_t i) const { return i + 1; }
    detail::Value operator()(double x) const { return x * 2 + 1; }
    detail::Value operator()(bool b) const { return !b; }
    detail::Value operator()(const std::string& s) const { return s + "_x"; }
    detail::Value operator()(const std::vector<std::string>& l) const {
      std::vector<std::string> out = l;
      out.push_back("c" + std::to_string(l.size()));
      return out;
    }
  };
  return std::visit(Change{}, v);
}

// With the member count above, this proves the binding is one-to-one: setting
// a key changes its own line of to_yaml and no other, so no two keys share a
// member, and as many keys as members means every member has a key.
TEST(ConfigCoverage, EachKeyChangesExactlyItsOwnLine) {
  const Config d;
  const std::vector<std::string> base = lines_of(to_yaml(d));
  std::set<std::string> paths;
  for (const auto& spec : detail::key_table()) {
    EXPECT_TRUE(paths.insert(spec.path).second) << "key listed twice: " << spec.path;
    Config c;
    spec.set(c, different(spec.get(d)));
    const std::vector<std::string> now = lines_of(to_yaml(c));
    ASSERT_EQ(now.size(), base.size());
    std::vector<std::string> differing;
    for (std::size_t i = 0; i < now.size(); ++i) {
      if (now[i] != base[i]) differing.push_back(now[i]);
    }
    ASSERT_EQ(differing.size(), 1u) << spec.path;
    EXPECT_EQ(differing[0].rfind("  " + spec.name + ": ", 0), 0u)
        << spec.path << " changed: " << differing[0];
  }
}

// The same through the public path: an override of each key with a changed
// value either lands in the Config or is refused with an error about that key.
TEST(ConfigCoverage, EveryKeyCanBeOverridden) {
  const Config d;
  int landed = 0;
  for (const auto& spec : detail::key_table()) {
    const std::string text = detail::format_value(different(spec.get(d)));
    try {
      const Config c = config_from_overrides({spec.path + "=" + text});
      EXPECT_EQ(detail::format_value(spec.get(c)), text) << spec.path;
      ++landed;
    } catch (const ConfigError& e) {  // e.g. an enum value that is not a choice
      EXPECT_TRUE(contains(e.what(), {spec.path + " (--set " + spec.path + "=" + text + ")"}));
    }
  }
  EXPECT_GT(landed, static_cast<int>(detail::key_table().size()) / 2);
}

TEST(ConfigCoverage, DefaultsSatisfyTheirOwnConstraints) {
  const Config d;
  for (const auto& spec : detail::key_table()) {
    EXPECT_FALSE(detail::check_value(spec, spec.get(d))) << spec.path;
  }
  EXPECT_NO_THROW(config_from_overrides({}));
}

}  // namespace
}  // namespace medtrain::config
