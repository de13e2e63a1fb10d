#pragma once
// Note [Checkpoints on a full disk] A checkpoint that cannot be written (ENOSPC,
// EIO: CheckpointManager::save throws, `latest` is left as it was) does not end
// the run at once: a multi-day run on a volume that fills up should survive a
// cleanup of that volume. Training goes on with a one-line warning and tries
// again at the next checkpoint. It stops (exit 1, naming the last intact
// checkpoint) when checkpoint.max_failed_saves saves fail in a row, or when the
// final checkpoint (end of training, or the one written on a stop signal)
// fails: after that there is no later save to retry with, and exiting 0 or 75
// would claim that the run's end state was kept.
//
// Only rank 0 writes; its outcome reaches every rank (trainer.cpp), so all
// ranks count the same failures and stop after the same step.
#include <cstdint>
#include <filesystem>
#include <optional>
#include <stdexcept>
#include <string>

namespace medtrain::engine {

// Not a UserError: the run itself was right, the storage failed (exit 1).
class CheckpointSaveFailed : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

class SaveFailures {
 public:
  explicit SaveFailures(int64_t max_failed_saves);

  void succeeded() { in_a_row_ = 0; }
  // Counts a failed save; true when the run must stop (see the Note).
  bool failed(bool final_checkpoint);

  int64_t total() const { return total_; }

  // One line each: what failed (`error` names the file and the reason) and
  // where the last intact checkpoint is (`latest`: none yet when nullopt).
  std::string warning(int64_t step, const std::string& error,
                      const std::optional<std::filesystem::path>& latest) const;
  std::string fatal(int64_t step, const std::string& error, const std::optional<std::filesystem::path>& latest,
                    bool final_checkpoint) const;

 private:
  int64_t max_in_a_row_;
  int64_t in_a_row_ = 0;
  int64_t total_ = 0;
};

}  // namespace medtrain::engine
