#pragma once
// `medtrain deid` over a folder tree: walks --in (streaming: one path at a time
// through a bounded queue), de-identifies each file on a pool of worker threads,
// writes <out>/<pseudonym>/<study uid>/<series uid>/<sop uid>.dcm atomically (new
// names: input paths often carry patient names), appends the audit log, and skips
// files an earlier run finished (same input hash, output present with the hash
// its record holds). The input tree is only read. Files named *.txt are
// free-text reports (report_text.h): cleaned by the text tagger into
// <out>/reports/<input id>.txt, or skipped when there is none.
//
// Integrity (docs/deid.md, "Duplicates, collisions, locks, links"):
// * the run holds --out's OutputLock from start to end; a second run fails;
// * an output path is written at most once per run, and never for two inputs:
//   identical inputs are written once (the others are "duplicate"); a second
//   object claiming a SOP Instance UID with other content is quarantined;
// * every write below --out goes through data/io/write_beneath.h (no links);
// * temporary files left by a killed run are removed at the start.
#include <functional>
#include <string>

#include <nlohmann/json.hpp>

#include "data/deid/deidentifier.h"
#include "data/deid/pixel_clean.h"

namespace medtrain::data::deid {

struct RunOptions {
  std::string in_dir, out_dir, key_file;
  // Where inputs that must not reach the research output go, as their original
  // bytes: empty means <out>.quarantine (a sibling of --out). Never inside --in
  // or --out.
  std::string quarantine_dir;
  DeidSettings settings;
  bool allow_burned_in = false;
  bool allow_encapsulated = false;  // PDF/CDA/STL/OBJ/MTL: through the profile instead of quarantine
  PixelOptions pixels;              // --pixels, --pixel-regions: burned-in text (pixel_clean.h)
  int jobs = 0;                     // 0: std::thread::hardware_concurrency()
  bool skip_bad_files = false;      // false: the first bad file stops the run with a DataError
  bool show_paths = false;          // messages name input paths instead of input ids
  // One line per skipped, excluded, dropped or quarantined file (names the input
  // id, or the path with show_paths; never a value).
  std::function<void(const std::string&)> on_warning;
};

struct RunSummary {
  long files = 0, written = 0, resumed = 0, duplicates = 0, quarantined = 0, dropped_dicomdir = 0,
       excluded_burned_in = 0, failed = 0, temp_files_removed = 0;
  // Free-text reports (.txt, report_text.h): cleaned by --text-model (also
  // counted in `written`), or skipped without one (named in the audit as
  // status "skipped_report").
  long reports_cleaned = 0, reports_skipped = 0;
  long long bytes_in = 0, bytes_out = 0;
  double seconds = 0;       // wall time of the run, the closing flush included
  double sync_seconds = 0;  // of which: making every output durable (one syncfs)
  std::string quarantine_dir;
  nlohmann::json to_json() const;
};

// The quarantine folder `options` name or imply (<out>.quarantine).
std::string quarantine_folder(const RunOptions& options);

// Throws DataError for bad arguments (missing folders, --out inside --in, key
// file, --out in use by another run, links below --out) and, unless
// skip_bad_files, for the first file that cannot be de-identified.
RunSummary run_deid(const RunOptions& options);

}  // namespace medtrain::data::deid
