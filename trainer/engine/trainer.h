#pragma once
// The training loop for one rank: micro-batches with gradient accumulation,
// autocast + dynamic loss scaling, clipping, a step-indexed LR schedule,
// evaluation and checkpoints on their cadence, and a clean stop on a signal.
// With more than one rank, gradients are averaged across ranks (DataParallel)
// and every rank must call train() with the same config.
#include <filesystem>
#include <map>
#include <memory>
#include <optional>
#include <string>

#include "trainer/config/config.h"
#include "trainer/dist/world.h"

namespace medtrain::engine {

struct TrainOptions {
  std::string resume;        // "" (fresh), "auto", or a checkpoint path
  std::string host = "localhost";  // this rank's host, for messages
  // A fresh run (no --resume) into a run folder that holds checkpoints is
  // refused unless true: then the earlier run's checkpoints, metrics, events,
  // timelines and config are removed first (Note [A run folder has one run]).
  bool overwrite = false;
};

struct TrainResult {
  int64_t steps = 0;
  bool stopped_by_signal = false;
  std::filesystem::path run_dir;
  std::optional<std::filesystem::path> last_checkpoint;
  std::map<std::string, double> last_eval;
};

TrainResult train(const config::Config& cfg, const dist::World& world, const TrainOptions& options);

struct EvalOutputs;  // evaluator.h

// Evaluates a checkpoint (or the run's latest) on the validation split.
// `outputs`, when given, receives the logits and targets the metrics came
// from (classification; for the curves of eval_curves.h).
std::map<std::string, double> evaluate_checkpoint(const config::Config& cfg,
                                                  const std::filesystem::path& checkpoint,
                                                  EvalOutputs* outputs = nullptr);

// Evaluates model.pretrained as it loads, before any training (`eval --pretrained`).
std::map<std::string, double> evaluate_pretrained(const config::Config& cfg, EvalOutputs* outputs = nullptr);

}  // namespace medtrain::engine
