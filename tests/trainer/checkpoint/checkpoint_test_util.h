#pragma once
// Shared by the checkpoint tests: a temporary ckpt folder per test, a
// checkpoint with every kind of content, bitwise comparisons.
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <limits>
#include <string>

#include <unistd.h>

#include <torch/torch.h>

#include "trainer/checkpoint/atomic_file.h"
#include "trainer/checkpoint/checkpoint.h"
#include "tests/common/tensor_bytes.h"

namespace medtrain::checkpoint::testing {

namespace fs = std::filesystem;

using medtrain::testing::expect_bitwise_equal;
using medtrain::testing::raw_bytes;

inline bool same_bits(double a, double b) { return std::memcmp(&a, &b, sizeof a) == 0; }

// `seed` varies the content so that checkpoints of different steps differ.
inline Checkpoint make_checkpoint(int64_t step, int seed = 0) {
  torch::manual_seed(seed + 1);
  Checkpoint c;
  c.model = {{"conv1.weight", torch::randn({4, 1, 3, 3})},
             {"bn1.running_mean", torch::randn({4}, torch::kDouble)},
             {"bn1.num_batches_tracked", torch::tensor(int64_t{step} * 7)},
             {"fc.weight", torch::randn({2, 4}).to(torch::kBFloat16)},
             {"fc.bias", torch::randn({2}).to(torch::kHalf)},
             {"mask", torch::rand({5}) > 0.5},
             {"empty", torch::zeros({0, 4})}};
  c.optimizer = {{"conv1.weight.exp_avg", torch::randn({4, 1, 3, 3})},
                 {"conv1.weight.exp_avg_sq", torch::rand({4, 1, 3, 3})},
                 {"conv1.weight.step", torch::tensor(double(step))}};
  c.rng = {{"cpu", torch::randint(0, 256, {5056}, torch::kByte)}};
  c.state.step = step;
  c.state.epoch = step / 10;
  c.state.batch_in_epoch = step % 10;
  c.state.samples_seen = step * 32;
  c.state.world_size = 4;
  c.state.global_batch = 96;
  c.state.grad_accum_steps = 3;
  c.state.loss_scale = 65536.0 / 3.0;  // not a short decimal: checks bit-exact doubles
  c.state.last_eval = {{"val/auroc", 0.1 + 0.2},
                       {"val/loss", std::numeric_limits<double>::quiet_NaN()},
                       {"val/max", std::numeric_limits<double>::infinity()}};
  c.state.torch_version = "2.11.0";
  c.state.medtrain_version = "0.1.0";
  c.config_yaml = "run:\n  name: t\u00e9st \xE2\x9C\x93\n  seed: " + std::to_string(seed) + "\n";
  return c;
}

class CkptDirTest : public ::testing::Test {
 protected:
  void SetUp() override {
    const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
    root_ = fs::temp_directory_path() / ("medtrain_ckpt_" + std::string(info->test_suite_name()) + "_" +
                                         info->name() + "_" + std::to_string(::getpid()));
    std::error_code ec;
    fs::remove_all(root_, ec);
    fs::create_directories(root_);
    ckpt_ = root_ / "ckpt";
  }
  void TearDown() override {
    std::error_code ec;
    std::filesystem::remove_all(root_, ec);
  }

  std::string read(const fs::path& p) {
    std::ifstream in(p, std::ios::binary);
    return std::string(std::istreambuf_iterator<char>(in), {});
  }
  void write(const fs::path& p, const std::string& bytes) {
    std::ofstream(p, std::ios::binary | std::ios::trunc) << bytes;
  }

  fs::path root_;
  fs::path ckpt_;
};

// Runs `f`, expects a CheckpointError whose message contains every part.
template <typename F>
void expect_checkpoint_error(F&& f, std::initializer_list<std::string> parts) {
  try {
    f();
    ADD_FAILURE() << "no CheckpointError";
  } catch (const CheckpointError& e) {
    const std::string what = e.what();
    for (const auto& part : parts) {
      EXPECT_NE(what.find(part), std::string::npos) << "expected \"" << part << "\" in: " << what;
    }
  }
}

}  // namespace medtrain::checkpoint::testing
