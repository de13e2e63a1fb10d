#pragma once
// Pure formatting behind Progress (no clock, no stream), so the exact text of
// a progress line can be tested without timing.
#include <string>

#include "trainer/metrics/progress.h"

namespace medtrain::metrics::detail {

constexpr int kBarWidth = 24;

// Seconds -> "m:ss" below an hour, "h:mm:ss" above; "--:--" when unknown
// (NaN, infinite or negative).
std::string format_duration(double seconds);

// Remaining time at the rate observed so far; NaN while no rate is known.
double eta_seconds(int64_t steps_done, double elapsed_s, int64_t steps_left);

// "epoch 2 loss 0.4123 lr 9.51e-04 312.4 samples/s data-wait 3%"
std::string format_stats(const StepReport& r);

// "step 120/400 <stats> eta 0:54"; "step 120 <stats>" when total_steps is 0.
// `eta` is empty when there is none to show.
std::string format_plain_line(const StepReport& r, const std::string& eta);

// "[#########...............] 120/400 <stats> eta 0:54" (no '\r', no newline;
// a counter other than "step" is named before the count);
// "step 120 <stats>" when total_steps is 0.
std::string format_bar_line(const StepReport& r, const std::string& eta);

}  // namespace medtrain::metrics::detail
