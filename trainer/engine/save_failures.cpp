#include "trainer/engine/save_failures.h"

#include <fmt/format.h>

namespace medtrain::engine {

namespace {

std::string latest_text(const std::optional<std::filesystem::path>& latest) {
  return latest ? latest->string() : std::string("none yet");
}

}  // namespace

SaveFailures::SaveFailures(int64_t max_failed_saves) : max_in_a_row_(max_failed_saves) {}

bool SaveFailures::failed(bool final_checkpoint) {
  ++total_;
  ++in_a_row_;
  return final_checkpoint || in_a_row_ >= max_in_a_row_;
}

std::string SaveFailures::warning(int64_t step, const std::string& error,
                                  const std::optional<std::filesystem::path>& latest) const {
  return fmt::format(
      "warning: checkpoint of step {} not saved: {}; latest stays {}; training goes on, the next checkpoint "
      "retries ({} of checkpoint.max_failed_saves {} in a row)",
      step, error, latest_text(latest), in_a_row_, max_in_a_row_);
}

std::string SaveFailures::fatal(int64_t step, const std::string& error,
                                const std::optional<std::filesystem::path>& latest, bool final_checkpoint) const {
  const std::string why = final_checkpoint
                              ? std::string("the final checkpoint")
                              : fmt::format("{} failures in a row, checkpoint.max_failed_saves {}", in_a_row_,
                                            max_in_a_row_);
  return fmt::format(
      "checkpoint of step {} not saved ({}): {}; the last intact checkpoint is {}; free space and resume with "
      "--resume auto",
      step, why, error, latest_text(latest));
}

}  // namespace medtrain::engine
