#pragma once
// How many accelerators can this storage keep busy? MLPerf Storage counts a
// training run only when accelerator utilization AU = compute time / total time
// is at least 90%. With a loader that reads ahead (prefetch_batches >= 1), a
// step costs max(compute, load), so AU >= 90% needs every accelerator's batch
// to arrive within compute / 0.9: each accelerator needs
//     0.9 * batch * sample_bytes / compute   bytes per second.
// The sizing combines that need with what iobench measured on the storage.
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "data/io/read_probes.h"

namespace medtrain::data::io {

constexpr double kTargetAu = 0.90;

struct Workload {
  std::string name;
  double sample_bytes = 0;
  int64_t batch = 0;         // samples per accelerator per step
  double compute_ms = 0;     // emulated accelerator time per batch
};

// MLPerf Storage's H100 figures for "resnet50" and "unet3d"; nullopt otherwise.
std::optional<Workload> workload_preset(const std::string& name);
std::vector<std::string> workload_preset_names();

struct LoaderSettings {
  int64_t workers = 2;            // data.workers: reader/decoder threads per rank
  int64_t prefetch_batches = 4;   // data.prefetch_batches
  bool shards = false;            // data.shards is set
  bool cache = false;             // data.cache_dir or data.cache_ram_gb is set
};

// What the storage did, as measured by the probes (absent probes: no data).
struct StorageMeasurements {
  std::optional<SmallFileResult> small_one, small_many;
  std::optional<SequentialResult> seq_one, seq_many;
};

struct AccessSizing {
  std::string access;              // "small files" or "shards"
  bool measured = false;           // false: PATH held no files of this kind
  double rank_samples_per_s = 0;   // one rank's loader with the current workers
  double node_samples_per_s = 0;   // this client with all the probe's threads
  double au_one = 0;               // estimated AU of one accelerator (0..1)
  int64_t accelerators = 0;        // kept at >= 90% AU by this client
  int64_t workers_needed = 0;      // data.workers for one accelerator at 90% AU
  std::string limit;               // what caps `accelerators`
};

struct WorkloadSizing {
  Workload workload;
  double need_samples_per_s = 0;   // per accelerator, for 90% AU
  double need_mb_per_s = 0;
  AccessSizing small_files, shards;
  std::vector<std::string> advice; // which settings to change, most useful first
};

WorkloadSizing size_workload(const Workload& w, const StorageMeasurements& m, const LoaderSettings& loader,
                             int64_t accelerators_per_node);

}  // namespace medtrain::data::io
