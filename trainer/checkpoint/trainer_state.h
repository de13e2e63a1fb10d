#pragma once
// The trainer's position in a run, as a checkpoint stores it in
// trainer_state.json (trainer_state_json.h), and the error a checkpoint that
// fails to load raises. Plain types only: checkpoint.h builds on this, and
// the trainer_state.json fuzzer (tests/fuzz/) compiles it without LibTorch.
#include <cstdint>
#include <map>
#include <optional>
#include <string>

#include "trainer/user_error.h"

namespace medtrain::checkpoint {

class CheckpointError : public UserError {
 public:
  using UserError::UserError;
};

struct TrainerState {
  int64_t step = 0;              // optimizer steps completed
  int64_t epoch = 0;             // epoch in progress
  int64_t batch_in_epoch = 0;    // batches of `epoch` already consumed (sampler position)
  int64_t samples_seen = 0;
  int world_size = 1;
  int64_t global_batch = 1;      // samples per optimizer step, all ranks together
  int64_t grad_accum_steps = 1;  // micro-batches per optimizer step and rank
  double loss_scale = 1.0;       // fp16 dynamic loss scale
  std::optional<double> best_metric;
  std::string best_checkpoint;   // directory name of the best checkpoint so far
  std::map<std::string, double> last_eval;
  std::string torch_version;
  std::string medtrain_version;
};

}  // namespace medtrain::checkpoint
