// CheckpointManager::save and load_checkpoint: bitwise round trips, the
// latest/best pointers, retention, and what a crash mid-save leaves behind.
#include <nlohmann/json.hpp>

#include <cstdlib>
#include <type_traits>

#include "tests/trainer/checkpoint/checkpoint_test_util.h"

namespace medtrain::checkpoint::testing {
namespace {

static_assert(std::is_base_of_v<UserError, CheckpointError>, "a bad checkpoint is a user error (exit 2)");

using CheckpointSave = CkptDirTest;

void expect_state_equal(const TrainerState& want, const TrainerState& got) {
  EXPECT_EQ(want.step, got.step);
  EXPECT_EQ(want.epoch, got.epoch);
  EXPECT_EQ(want.batch_in_epoch, got.batch_in_epoch);
  EXPECT_EQ(want.samples_seen, got.samples_seen);
  EXPECT_EQ(want.world_size, got.world_size);
  EXPECT_EQ(want.global_batch, got.global_batch);
  EXPECT_EQ(want.grad_accum_steps, got.grad_accum_steps);
  EXPECT_TRUE(same_bits(want.loss_scale, got.loss_scale));
  ASSERT_EQ(want.best_metric.has_value(), got.best_metric.has_value());
  if (want.best_metric) {
    EXPECT_TRUE(same_bits(*want.best_metric, *got.best_metric));
  }
  EXPECT_EQ(want.best_checkpoint, got.best_checkpoint);
  ASSERT_EQ(want.last_eval.size(), got.last_eval.size());
  for (const auto& [k, v] : want.last_eval) {
    ASSERT_EQ(got.last_eval.count(k), 1u) << k;
    EXPECT_TRUE(same_bits(v, got.last_eval.at(k))) << k << ": " << v << " vs " << got.last_eval.at(k);
  }
  EXPECT_EQ(want.torch_version, got.torch_version);
  EXPECT_EQ(want.medtrain_version, got.medtrain_version);
}

TEST_F(CheckpointSave, RoundTripIsBitwise) {
  CheckpointManager manager(ckpt_, {});
  const Checkpoint saved = make_checkpoint(120);
  const fs::path dir = manager.save(saved, 0.75);
  EXPECT_EQ(dir, ckpt_ / "step-00000120");
  const Checkpoint loaded = load_checkpoint(dir);
  expect_bitwise_equal(saved.model, loaded.model);
  expect_bitwise_equal(saved.optimizer, loaded.optimizer);
  expect_bitwise_equal(saved.rng, loaded.rng);
  TrainerState want = saved.state;
  want.best_metric = 0.75;  // the manager records the best it decided on
  want.best_checkpoint = "step-00000120";
  expect_state_equal(want, loaded.state);
  EXPECT_EQ(saved.config_yaml, loaded.config_yaml);
}

TEST_F(CheckpointSave, WithoutMetricTheStateHasNoBest) {
  CheckpointManager manager(ckpt_, {});
  const Checkpoint saved = make_checkpoint(3);
  const Checkpoint loaded = load_checkpoint(manager.save(saved, std::nullopt));
  EXPECT_FALSE(loaded.state.best_metric.has_value());
  EXPECT_EQ(loaded.state.best_checkpoint, "");
  expect_state_equal(saved.state, loaded.state);
  EXPECT_FALSE(fs::exists(fs::symlink_status(ckpt_ / "best")));
}

TEST_F(CheckpointSave, DirectoryHoldsTheDocumentedFilesAndAManifestPythonAgreesWith) {
  CheckpointManager manager(ckpt_, {});
  const fs::path dir = manager.save(make_checkpoint(7), std::nullopt);
  std::set<std::string> names;
  for (const auto& e : fs::directory_iterator(dir)) names.insert(e.path().filename().string());
  EXPECT_EQ(names, (std::set<std::string>{"model.safetensors", "optimizer.safetensors", "rng.safetensors",
                                          "trainer_state.json", "config.yaml", "manifest.json"}));
  const auto manifest = nlohmann::json::parse(read(dir / "manifest.json"));
  EXPECT_EQ(manifest["format"], "medtrain-checkpoint/1");
  EXPECT_EQ(manifest["files"].size(), 5u);
  EXPECT_EQ(read(dir / "config.yaml"), make_checkpoint(7).config_yaml);
  if (std::string(MEDTRAIN_PYTHON).empty()) GTEST_SKIP() << "configured without MEDTRAIN_PYTHON";
  // An independent check of every size and SHA-256: Python's hashlib.
  const std::string script =
      "import hashlib, json, os, sys\n"
      "d = sys.argv[1]\n"
      "m = json.load(open(os.path.join(d, 'manifest.json')))\n"
      "for name, e in m['files'].items():\n"
      "    data = open(os.path.join(d, name), 'rb').read()\n"
      "    assert len(data) == e['size'], name\n"
      "    assert hashlib.sha256(data).hexdigest() == e['sha256'], name\n";
  write(root_ / "check.py", script);
  const std::string cmd = std::string(MEDTRAIN_PYTHON) + " '" + (root_ / "check.py").string() + "' '" +
                          dir.string() + "'";
  EXPECT_EQ(std::system(cmd.c_str()), 0);
}

TEST_F(CheckpointSave, LatestIsARelativeSymlinkToTheNewest) {
  CheckpointManager manager(ckpt_, {5, true, true});
  EXPECT_FALSE(manager.latest().has_value());
  for (int64_t step : {10, 20, 30}) manager.save(make_checkpoint(step), std::nullopt);
  EXPECT_TRUE(fs::is_symlink(ckpt_ / "latest"));
  EXPECT_EQ(fs::read_symlink(ckpt_ / "latest"), fs::path("step-00000030"));
  ASSERT_TRUE(manager.latest().has_value());
  EXPECT_EQ(*manager.latest(), ckpt_ / "step-00000030");
  // Loads through the symlink and through the ckpt folder itself.
  EXPECT_EQ(load_checkpoint(ckpt_ / "latest").state.step, 30);
  EXPECT_EQ(load_checkpoint(ckpt_).state.step, 30);
  // The folder moves as a whole: relative links keep working.
  fs::rename(ckpt_, root_ / "moved");
  EXPECT_EQ(load_checkpoint(root_ / "moved").state.step, 30);
}

TEST_F(CheckpointSave, KeepLastPrunesButKeepsTheBest) {
  CheckpointManager manager(ckpt_, {2, true, true});
  const double metrics[] = {0.9, 0.5, 0.6, 0.7};
  for (int64_t step = 1; step <= 4; ++step) manager.save(make_checkpoint(step), metrics[step - 1]);
  std::set<std::string> dirs;
  for (const auto& e : fs::directory_iterator(ckpt_)) dirs.insert(e.path().filename().string());
  EXPECT_EQ(dirs, (std::set<std::string>{"step-00000001", "step-00000003", "step-00000004", "latest", "best"}));
  EXPECT_EQ(fs::read_symlink(ckpt_ / "best"), fs::path("step-00000001"));
  EXPECT_EQ(load_checkpoint(ckpt_ / "best").state.step, 1);
  const TrainerState last = load_checkpoint(ckpt_ / "latest").state;
  EXPECT_EQ(last.step, 4);
  EXPECT_EQ(last.best_metric, 0.9);
  EXPECT_EQ(last.best_checkpoint, "step-00000001");
}

TEST_F(CheckpointSave, LowerIsBetterAndNaNNeverWins) {
  CheckpointManager manager(ckpt_, {1, true, false});
  manager.save(make_checkpoint(1), 0.9);
  manager.save(make_checkpoint(2), 0.4);
  manager.save(make_checkpoint(3), std::numeric_limits<double>::quiet_NaN());
  manager.save(make_checkpoint(4), 0.6);
  EXPECT_EQ(fs::read_symlink(ckpt_ / "best"), fs::path("step-00000002"));
  EXPECT_FALSE(fs::exists(ckpt_ / "step-00000001"));
  EXPECT_FALSE(fs::exists(ckpt_ / "step-00000003"));
  EXPECT_EQ(load_checkpoint(ckpt_).state.best_metric, 0.4);
}

TEST_F(CheckpointSave, WithoutKeepBestOnlyTheNewestStay) {
  CheckpointManager manager(ckpt_, {1, false, true});
  manager.save(make_checkpoint(1), 0.9);
  manager.save(make_checkpoint(2), 0.1);
  EXPECT_FALSE(fs::exists(fs::symlink_status(ckpt_ / "best")));
  EXPECT_FALSE(fs::exists(ckpt_ / "step-00000001"));
  EXPECT_TRUE(fs::exists(ckpt_ / "step-00000002"));
}

// A new process (a resumed run) must not forget the best of an earlier one,
// even when the state it passes carries no best.
TEST_F(CheckpointSave, BestSurvivesANewManager) {
  CheckpointManager(ckpt_, {1, true, true}).save(make_checkpoint(1), 0.9);
  CheckpointManager again(ckpt_, {1, true, true});
  again.save(make_checkpoint(2), 0.8);
  EXPECT_EQ(fs::read_symlink(ckpt_ / "best"), fs::path("step-00000001"));
  EXPECT_TRUE(fs::exists(ckpt_ / "step-00000001"));
  const TrainerState s = load_checkpoint(ckpt_).state;
  EXPECT_EQ(s.best_metric, 0.9);
  EXPECT_EQ(s.best_checkpoint, "step-00000001");
}

TEST_F(CheckpointSave, SavingAStepAgainReplacesIt) {
  CheckpointManager manager(ckpt_, {});
  manager.save(make_checkpoint(10, 1), 0.9);
  const Checkpoint second = make_checkpoint(10, 2);
  manager.save(second, std::nullopt);
  const Checkpoint loaded = load_checkpoint(ckpt_ / "step-00000010");
  expect_bitwise_equal(second.model, loaded.model);
  // `best` named the old content, which is gone.
  EXPECT_FALSE(fs::exists(fs::symlink_status(ckpt_ / "best")));
  EXPECT_FALSE(loaded.state.best_metric.has_value());
  for (const auto& e : fs::directory_iterator(ckpt_)) {
    EXPECT_NE(e.path().filename().string().rfind(".tmp-", 0), 0u) << e.path();
  }
}

// A crash mid-save leaves a .tmp- directory and maybe a latest.tmp- link:
// never used as latest, removed by the next save.
TEST_F(CheckpointSave, LeftoversOfACrashAreIgnoredThenCleaned) {
  CheckpointManager manager(ckpt_, {});
  manager.save(make_checkpoint(10), std::nullopt);
  const fs::path crashed = ckpt_ / ".tmp-step-00000020-99999";
  fs::create_directories(crashed);
  write(crashed / "model.safetensors", "half a fi");
  fs::create_directory_symlink(".tmp-step-00000020-99999", ckpt_ / "latest.tmp-99999");
  EXPECT_EQ(*manager.latest(), ckpt_ / "step-00000010");
  EXPECT_EQ(*resolve_resume("auto", ckpt_), ckpt_ / "step-00000010");
  EXPECT_EQ(load_checkpoint(ckpt_).state.step, 10);

  manager.save(make_checkpoint(20), std::nullopt);
  EXPECT_FALSE(fs::exists(crashed));
  EXPECT_FALSE(fs::exists(fs::symlink_status(ckpt_ / "latest.tmp-99999")));
  EXPECT_EQ(load_checkpoint(ckpt_).state.step, 20);
}

TEST_F(CheckpointSave, BadStepAndBadPolicyAreErrors) {
  expect_checkpoint_error([&] { CheckpointManager(ckpt_, {0, true, true}); }, {"keep_last", "got 0"});
  CheckpointManager manager(ckpt_, {});
  expect_checkpoint_error([&] { manager.save(make_checkpoint(-1), std::nullopt); }, {"step -1"});
  Checkpoint bad = make_checkpoint(1);
  bad.model.push_back({"conv1.weight", torch::zeros({1})});
  expect_checkpoint_error([&] { manager.save(bad, std::nullopt); },
                          {"model.safetensors", "\"conv1.weight\" appears twice"});
  EXPECT_FALSE(fs::exists(ckpt_ / "step-00000001"));
  EXPECT_FALSE(manager.latest().has_value());
}

TEST_F(CheckpointSave, UnusableFolderIsAnErrorNamingIt) {
  write(ckpt_, "a file where the ckpt folder should be");
  CheckpointManager manager(ckpt_, {});
  expect_checkpoint_error([&] { manager.save(make_checkpoint(1), std::nullopt); },
                          {"cannot create checkpoint folder " + ckpt_.string()});
}

}  // namespace
}  // namespace medtrain::checkpoint::testing
