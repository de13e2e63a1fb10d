#pragma once
// Rank 0's view of a running job. On a terminal: one redrawn line with a bar,
// step/total, loss, samples/s, data-wait share and ETA. Otherwise (a pipe, a
// Slurm log) plain lines every `every_steps` steps, so logs stay readable.
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <string>
#include <utility>
#include <vector>

namespace medtrain::metrics {

enum class ProgressStyle { kBar, kPlain, kNone };

// "auto" -> bar when `stream` is a terminal, plain otherwise.
ProgressStyle progress_style_from(const std::string& name, std::FILE* stream);

struct StepReport {
  int64_t step = 0;
  int64_t total_steps = 0;
  int64_t epoch = 0;
  double loss = 0;
  double lr = 0;
  double samples_per_s = 0;
  double data_wait_fraction = 0;  // share of step time spent waiting for data
  // Where the step's time went, in seconds: data_wait, forward, backward,
  // comm_wait (all-reduce not hidden behind backward), optimizer.
  std::vector<std::pair<std::string, double>> phase_s;
  // Storage faults so far in this run (process), over all ranks: reads done
  // again after a transient error, and samples skipped when they still failed.
  int64_t read_retries = 0;
  int64_t read_skipped = 0;
  // Loops other than training (`medtrain infer`): what is counted instead of
  // "step", and the stats text instead of epoch, loss, lr, samples/s, data-wait.
  std::string counter = "step";
  std::string stats;
};

class Progress {
 public:
  // every_steps >= 1 (std::invalid_argument otherwise). Single-threaded.
  Progress(ProgressStyle style, int64_t every_steps, std::FILE* stream = stdout);
  // kBar: redraws the line on every call. kPlain: prints a line when
  // step % every_steps == 0 and for step == total_steps. ETA: the rate since
  // the first step reported to this object (so a resumed run is not skewed).
  void step(const StepReport& r);
  // A message that must not be overwritten by the bar (eval results, checkpoints).
  void line(const std::string& text);
  void finish();

 private:
  std::string eta(const StepReport& r) const;
  ProgressStyle style_;
  int64_t every_steps_;
  std::FILE* stream_;
  bool bar_drawn_ = false;
  std::chrono::steady_clock::time_point start_ = std::chrono::steady_clock::now();
  int64_t first_step_ = -1;
};

}  // namespace medtrain::metrics
