#pragma once
// `medtrain deid` over a folder tree: walks --in (streaming: one path at a time
// through a bounded queue), de-identifies each file on a pool of worker threads,
// writes <out>/<pseudonym>/<study uid>/<series uid>/<sop uid>.dcm atomically (new
// names: input paths often carry patient names), appends the audit log, and skips
// files an earlier run finished (same input hash, output present with the hash
// its record holds). The input tree is only read.
#include <functional>
#include <string>

#include <nlohmann/json.hpp>

#include "data/deid/deidentifier.h"

namespace medtrain::data::deid {

struct RunOptions {
  std::string in_dir, out_dir, key_file;
  DeidSettings settings;
  bool allow_burned_in = false;
  int jobs = 0;                 // 0: std::thread::hardware_concurrency()
  bool skip_bad_files = false;  // false: the first bad file stops the run with a DataError
  // One line per skipped or excluded file (may name the input path; never a value).
  std::function<void(const std::string&)> on_warning;
};

struct RunSummary {
  long files = 0, written = 0, resumed = 0, excluded_burned_in = 0, failed = 0;
  long long bytes_in = 0, bytes_out = 0;
  double seconds = 0;       // wall time of the run, the closing flush included
  double sync_seconds = 0;  // of which: making every output durable (one syncfs)
  nlohmann::json to_json() const;
};

// Throws DataError for bad arguments (missing folders, --out inside --in, key file)
// and, unless skip_bad_files, for the first file that cannot be de-identified.
RunSummary run_deid(const RunOptions& options);

}  // namespace medtrain::data::deid
