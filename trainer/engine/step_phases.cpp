#include "trainer/engine/step_phases.h"

namespace medtrain::engine {

void StepPhases::record(const std::string& phase, Clock::time_point start, Clock::time_point end,
                        metrics::ChromeTrace::Track track) {
  if (trace_ != nullptr) trace_->span(phase, track, start, end, step_);
  if (track == metrics::ChromeTrace::kComm) return;  // overlaps compute: not part of the step sum
  const double s = std::chrono::duration<double>(end - start).count();
  for (auto& [name, total] : seconds_) {
    if (name == phase) {
      total += s;
      return;
    }
  }
  seconds_.emplace_back(phase, s);
}

double StepPhases::seconds(const std::string& phase) const {
  for (const auto& [name, total] : seconds_) {
    if (name == phase) return total;
  }
  return 0;
}

}  // namespace medtrain::engine
