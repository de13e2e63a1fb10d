// The schedule is checked against its defining properties, computed here
// independently of the implementation's formula.
#include <gtest/gtest.h>

#include <cmath>

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
