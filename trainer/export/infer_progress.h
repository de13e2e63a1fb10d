#pragma once
// Progress of a `medtrain infer` run on stderr, through metrics::Progress:
// on a terminal a redrawn bar ("[####....] 12/40 files 3.1 files/s eta 0:09");
// otherwise (logs, pipes) a plain line at most every 10 s, so short runs and
// their one-line errors stay as they were.
#include <chrono>
#include <cstdint>
#include <string>

#include "trainer/metrics/progress.h"

namespace medtrain::exporter {

class InferProgress {
 public:
  // style: auto | bar | plain | none (UserError otherwise); unit: "files",
  // "windows" (its rate); counter: what the line counts ("files",
  // "series 2/5 windows"), the unit when empty.
  InferProgress(const std::string& style, std::string unit, int64_t total, std::string counter = "");
  // `count` inputs are finished (predicted, skipped or failed); `total`, when
  // given (>= 0), replaces the one from the constructor.
  void done(int64_t count, int64_t total = -1);
  void finish();

 private:
  metrics::ProgressStyle style_;
  metrics::Progress progress_;
  std::string unit_, counter_;
  int64_t total_;
  std::chrono::steady_clock::time_point start_ = std::chrono::steady_clock::now(), last_line_ = start_;
  bool printed_ = false;
};

}  // namespace medtrain::exporter
