#pragma once
// A timeline in the Chrome trace event format (chrome://tracing, Perfetto):
// one complete event ("ph":"X") per phase of a step, one process per rank, a
// track for compute and one for communication, so a user sees at a glance
// whether the all-reduce hides behind backward. Events are streamed to the file
// as they happen; the array is closed by close() (viewers also accept a file
// cut short by a crash).
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <string>

namespace medtrain::metrics {

class ChromeTrace {
 public:
  using Clock = std::chrono::steady_clock;
  enum Track { kCompute = 0, kComm = 1, kData = 2 };

  ChromeTrace(const std::filesystem::path& path, int rank);
  ~ChromeTrace();
  ChromeTrace(const ChromeTrace&) = delete;
  ChromeTrace& operator=(const ChromeTrace&) = delete;

  void span(const std::string& name, Track track, Clock::time_point start, Clock::time_point end, int64_t step);
  void close();

 private:
  std::FILE* file_ = nullptr;
  int rank_;
  Clock::time_point origin_;
  bool first_ = true;
};

}  // namespace medtrain::metrics
