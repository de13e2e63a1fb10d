#pragma once
// The two read patterns a training loader puts on a NAS, timed on real files:
//  - small files: open + read whole + close, one file per request (DICOM trees)
//  - sequential: large files read front to back in big requests (shards)
// Each probe runs `threads` threads for about `seconds` and reports what it saw.
// Blocking; runs its own threads; throws DataError naming a file that vanishes
// or cannot be read mid-run.
#include <cstdint>
#include <optional>
#include <vector>

#include "data/io/file_survey.h"

namespace medtrain::data::io {

struct ProbeOptions {
  size_t threads = 1;
  double seconds = 3.0;
  bool drop_caches = false;            // fadvise(DONTNEED) each file before reading it again
  size_t request_bytes = 4u << 20;     // sequential read size
};

struct SmallFileResult {
  size_t threads = 0;
  size_t ops = 0;                      // files opened and read
  uint64_t bytes = 0;
  double seconds = 0;                  // wall time of the phase
  double iops = 0;                     // files per second
  double mb_per_s = 0;                 // 10^6 bytes per second
  double mean_ms = 0, p50_ms = 0, p99_ms = 0, max_ms = 0;  // per file: open + read + close
  double mean_file_bytes = 0;
  bool reread = false;                 // the phase came back to files it had read already
  std::optional<double> cached_before; // page-cache residency of the files before the phase
};

struct SequentialResult {
  size_t threads = 0;
  size_t files = 0;                    // distinct large files read
  uint64_t bytes = 0;
  double seconds = 0;
  double mb_per_s = 0;                 // all threads together
  double mb_per_s_per_thread = 0;
  size_t request_bytes = 0;
  bool reread = false;
  std::optional<double> cached_before;
};

SmallFileResult probe_small_files(const std::vector<FileEntry>& files, const ProbeOptions& options);
SequentialResult probe_sequential(const std::vector<FileEntry>& files, const ProbeOptions& options);

// q-quantile (0..1) of `values` by nearest rank; 0 when empty. Sorts a copy.
double quantile(std::vector<double> values, double q);

}  // namespace medtrain::data::io
