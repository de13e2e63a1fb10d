#pragma once
// Where one optimizer step's time goes (data wait, forward, backward, waiting
// for communication, optimizer), summed over its micro-steps, and mirrored
// into the Chrome trace for the first log.trace_steps steps.
#include <chrono>
#include <string>
#include <utility>
#include <vector>

#include "trainer/metrics/chrome_trace.h"

namespace medtrain::engine {

class StepPhases {
 public:
  using Clock = std::chrono::steady_clock;
  StepPhases(metrics::ChromeTrace* trace, int64_t step) : trace_(trace), step_(step) {}

  // Adds the time since `start` to `phase` and returns now, the next start.
  Clock::time_point add(const std::string& phase, Clock::time_point start,
                        metrics::ChromeTrace::Track track = metrics::ChromeTrace::kCompute) {
    const auto now = Clock::now();
    record(phase, start, now, track);
    return now;
  }
  void record(const std::string& phase, Clock::time_point start, Clock::time_point end,
              metrics::ChromeTrace::Track track);
  double seconds(const std::string& phase) const;
  const std::vector<std::pair<std::string, double>>& all() const { return seconds_; }

 private:
  metrics::ChromeTrace* trace_;
  int64_t step_;
  std::vector<std::pair<std::string, double>> seconds_;
};

}  // namespace medtrain::engine
