// The schedule is checked against its defining properties, computed here
// independently of the implementation's formula.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include <cmath>
#include <cstdio>
#include <stdexcept>
#include <string>
#include <vector>

#include "trainer/engine/lr_schedule.h"

using medtrain::config::ScheduleConfig;
using medtrain::engine::learning_rate_at;

TEST(LrSchedule, WarmupRisesLinearlyToTheBaseRate) {
  ScheduleConfig s;
  s.name = "constant";
  s.warmup_steps = 4;
  EXPECT_DOUBLE_EQ(learning_rate_at(s, 1.0, 0, 100), 0.25);
  EXPECT_DOUBLE_EQ(learning_rate_at(s, 1.0, 1, 100), 0.5);
  EXPECT_DOUBLE_EQ(learning_rate_at(s, 1.0, 3, 100), 1.0);
  EXPECT_DOUBLE_EQ(learning_rate_at(s, 1.0, 50, 100), 1.0);
}

TEST(LrSchedule, CosineGoesFromBaseToFloorThroughTheMidpoint) {
  ScheduleConfig s;
  s.name = "cosine";
  s.warmup_steps = 10;
  s.min_lr = 0.1;
  const int64_t total = 110;
  EXPECT_DOUBLE_EQ(learning_rate_at(s, 2.0, 10, total), 2.0);
  EXPECT_NEAR(learning_rate_at(s, 2.0, 60, total), (2.0 + 0.1) / 2, 1e-12);
  EXPECT_NEAR(learning_rate_at(s, 2.0, 110, total), 0.1, 1e-12);
  double prev = 1e9;
  for (int64_t step = 10; step <= total; ++step) {
    double lr = learning_rate_at(s, 2.0, step, total);
    EXPECT_LE(lr, prev) << step;
    prev = lr;
  }
  // A quarter of the way: base - (base - floor) * (1 - cos(pi/4)) / 2.
  EXPECT_NEAR(learning_rate_at(s, 2.0, 35, total), 2.0 - 1.9 * (1 - std::sqrt(0.5)) / 2, 1e-12);
}

TEST(LrSchedule, StepDecaysByGammaEveryStepSize) {
  ScheduleConfig s;
  s.name = "step";
  s.step_size = 5;
  s.gamma = 0.5;
  EXPECT_DOUBLE_EQ(learning_rate_at(s, 1.0, 4, 100), 1.0);
  EXPECT_DOUBLE_EQ(learning_rate_at(s, 1.0, 5, 100), 0.5);
  EXPECT_DOUBLE_EQ(learning_rate_at(s, 1.0, 12, 100), 0.25);
}

namespace {

// transformers.get_linear_schedule_with_warmup, run in Python
// (tests/trainer/engine/schedule_reference.py): "W:T" -> lr of steps 0..T+2.
nlohmann::json hf_linear(double base, const std::vector<std::pair<int64_t, int64_t>>& pairs) {
  std::string cmd = std::string(MEDTRAIN_PYTHON) + " " + MEDTRAIN_SOURCE_DIR +
                    "/tests/trainer/engine/schedule_reference.py " + std::to_string(base);
  for (const auto& [w, t] : pairs) cmd += " " + std::to_string(w) + ":" + std::to_string(t);
  FILE* pipe = popen(cmd.c_str(), "r");
  std::string text;
  char buf[4096];
  while (pipe && fgets(buf, sizeof(buf), pipe)) text += buf;
  if (!pipe || pclose(pipe) != 0) throw std::runtime_error("reference failed: " + cmd);
  return nlohmann::json::parse(text);
}

}  // namespace

// After warmup, "linear" is transformers' get_linear_schedule_with_warmup
// (min_lr 0) step for step, to 0 at total_steps and 0 past it. During warmup
// medtrain's shared convention (WarmupRisesLinearlyToTheBaseRate) is one step
// ahead of transformers', which spends its first step at lr 0: ours at step k
// is theirs at k + 1.
TEST(LrSchedule, LinearMatchesTransformersGetLinearScheduleWithWarmup) {
  const double base = 3e-4;
  const std::vector<std::pair<int64_t, int64_t>> pairs{{0, 10}, {3, 10}, {1, 2}, {0, 1}, {10, 100}, {7, 8}, {25, 40}};
  const auto ref = hf_linear(base, pairs);
  for (const auto& [w, t] : pairs) {
    const auto& lrs = ref.at(std::to_string(w) + ":" + std::to_string(t));
    ASSERT_EQ(lrs.size(), static_cast<size_t>(t + 3));
    ScheduleConfig s;
    s.name = "linear";
    s.warmup_steps = w;
    for (int64_t k = 0; k < t + 3; ++k) {
      const double ours = learning_rate_at(s, base, k, t);
      const double theirs = k < w ? lrs.at(k + 1).get<double>() : lrs.at(k).get<double>();
      EXPECT_NEAR(ours, theirs, 1e-15) << "warmup " << w << ", total " << t << ", step " << k;
    }
  }
}

TEST(LrSchedule, LinearGoesFromBaseToMinLrAndStaysThere) {
  ScheduleConfig s;
  s.name = "linear";
  s.warmup_steps = 4;
  s.min_lr = 0.2;
  const int64_t total = 24;  // 20 steps of decay
  EXPECT_DOUBLE_EQ(learning_rate_at(s, 1.2, 4, total), 1.2);
  EXPECT_NEAR(learning_rate_at(s, 1.2, 14, total), 0.7, 1e-12);  // half way
  EXPECT_NEAR(learning_rate_at(s, 1.2, 9, total), 1.2 - 0.25 * 1.0, 1e-12);
  EXPECT_NEAR(learning_rate_at(s, 1.2, 24, total), 0.2, 1e-12);
  EXPECT_NEAR(learning_rate_at(s, 1.2, 500, total), 0.2, 1e-12);
  for (int64_t k = 5; k <= total; ++k) {  // equal steps down
    EXPECT_NEAR(learning_rate_at(s, 1.2, k - 1, total) - learning_rate_at(s, 1.2, k, total), 0.05, 1e-12) << k;
  }
}
