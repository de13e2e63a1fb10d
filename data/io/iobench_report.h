#pragma once
// The report of `medtrain iobench`: what was measured, what it means for
// accelerator utilization, and honest notes on page-cache effects. Formatting
// only; the CLI prints the strings.
#include <cstdint>
#include <string>
#include <vector>

#include "data/io/au_simulation.h"
#include "data/io/au_sizing.h"
#include "data/io/file_survey.h"
#include "data/io/read_probes.h"

namespace medtrain::data::io {

struct IobenchReport {
  FileSurvey survey;
  ProbeOptions probe;               // threads = the parallel phases' thread count
  StorageMeasurements measured;
  LoaderSettings loader;
  std::string loader_source;        // "defaults" or the config file
  int64_t accelerators_per_node = 8;
  std::vector<WorkloadSizing> sizing;
};

// Warnings about results that may describe RAM rather than the storage.
std::vector<std::string> cache_notes(const IobenchReport& r);

std::string format_table(const IobenchReport& r);
std::string format_json(const IobenchReport& r);  // one JSON object, see docs/iobench.md

// --simulate: one accelerator fed by the real loader.
struct SimulationReport {
  std::string path, access;         // access: "small files" or "shards"
  Workload workload;
  SimulationOptions options;
  SimulationResult result;
  bool drop_caches = false;
  // What the data source says after the run (shards: bad records, block cache
  // hits and misses, cache_dir); empty for raw files.
  std::string data_report;
};
std::string format_table(const SimulationReport& r);
std::string format_json(const SimulationReport& r);

}  // namespace medtrain::data::io
