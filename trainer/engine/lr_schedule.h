#pragma once
// Learning rate as a pure function of the optimizer step, so a resumed run
// needs no scheduler state: linear warmup from 0 to the base rate over
// warmup_steps, then constant, cosine or linear down to min_lr at total_steps, or step
// decay by gamma every step_size steps (counted after warmup).
#include <cstdint>

#include "trainer/config/config.h"

namespace medtrain::engine {

// `step` is the 0-based index of the optimizer step about to be taken.
double learning_rate_at(const config::ScheduleConfig& schedule, double base_lr, int64_t step,
                        int64_t total_steps);

}  // namespace medtrain::engine
