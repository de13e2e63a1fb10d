#pragma once
// What the run report shows, read from a run folder (run.output_dir/run.name,
// laid out by trainer/engine/run_folder.cpp and run_logger.cpp):
//   config.yaml     the resolved config
//   metrics.jsonl   one JSON object per line: kind train / eval / event
//   tensorboard/    events.out.tfevents.* (scalars, images, text, PR curves)
// metrics.jsonl is preferred for scalars (it holds every logged value as
// written); the event files supply them when it is absent, and always supply
// the images and PR curves.
#include <cstdint>
#include <filesystem>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "trainer/metrics/event_file_reader.h"

namespace medtrain::report {

struct ScalarPoint {
  int64_t step = 0;
  double value = 0;  // NaN where the run logged a non-finite value (null in JSON)
};

// A table of the final metrics: rows of name and value, already formatted.
struct MetricTable {
  std::string title;
  std::vector<std::pair<std::string, std::string>> rows;
};

struct RunContents {
  std::filesystem::path dir;
  std::string name;  // run.name from config.yaml; the folder's name when it has none
  // Unix seconds of the first and last record (metrics.jsonl "time", else the
  // events' wall time); NaN when nothing carries a time.
  double first_time, last_time;
  std::string config_yaml;  // empty when the folder has no config.yaml
  std::vector<MetricTable> final_metrics;  // the last train and last eval record
  // Curves by tag (train/loss, train/lr, val/*), steps ascending, one value
  // per step: a step logged twice (a resumed run re-running steps after its
  // checkpoint) keeps the value logged last.
  std::map<std::string, std::vector<ScalarPoint>> curves;
  // The latest image of each image series, by series: a tag up to its first
  // space, as classification pictures carry their step and labels in the tag
  // ("train/batch step 500 (labels: ...)": series "train/batch").
  std::vector<metrics::EventValue> images;
  std::vector<metrics::EventValue> pr_curves;  // the latest pr_curves tensor of each tag, by tag
  std::vector<std::string> notes;              // what was left out and why, for the page
};

// Reads the run folder `dir`. Throws medtrain::UserError naming the folder
// when it is missing or not a folder, when it is not a run folder (no
// config.yaml, no metrics.jsonl and no event files), when it has no events
// (no metrics.jsonl record and no event value), when a metrics.jsonl line
// other than a cut-short last one is not a JSON object, and (naming the
// file) when an event file is corrupt. config.yaml, metrics.jsonl and the
// event files are read only when they are regular files (symbolic links to
// regular files are followed): a FIFO, device, folder or dangling link by one
// of those names is refused, naming it, and never blocks the read.
RunContents load_run_contents(const std::filesystem::path& dir);

// "2026-12-07 10:23:06 UTC" for Unix seconds; "?" when not finite.
std::string format_unix_time(double unix_seconds);

}  // namespace medtrain::report
