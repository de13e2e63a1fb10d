// medtrain iobench PATH: can this storage keep N accelerators fed?
// Measures small-file latency/IOPS and sequential bandwidth under PATH, then
// sizes MLPerf-Storage-like workloads against them (data/io/au_sizing.h).
// --simulate instead runs the real loader against PATH with emulated compute
// and reports the accelerator utilization it achieved (data/io/au_simulation.h):
// on raw files, or with -c on the experiment's own pipeline (DICOM or shards).
#include <CLI/CLI.hpp>
#include <fmt/format.h>

#include <cmath>
#include <limits>
#include <memory>

#include "data/io/au_simulation.h"
#include "data/io/iobench_report.h"
#include "data/io/raw_file_dataset.h"
#include "trainer/cli/commands.h"
#include "trainer/config/config_loader.h"
#include "trainer/engine/training_data.h"
#include "trainer/user_error.h"

namespace medtrain::cli {

namespace {

struct IobenchFlags {
  std::string path;
  size_t threads = 8;
  double seconds = 3.0;
  int64_t per_node = 8;
  std::string workload;  // empty = every preset
  double sample_kb = 0;
  int64_t batch = 0;
  double compute_ms = -1;
  bool json = false;
  bool drop_caches = false;
  ConfigFlags config;
  int64_t workers = -1, prefetch = -1;  // -1: from the config (or its defaults)
  bool simulate = false;
  bool records_only = false;
  size_t epochs = 1;
  double max_seconds = 0;
};

std::pair<data::io::LoaderSettings, std::string> loader_settings(const IobenchFlags& f) {
  config::DataConfig d;
  std::string source = "defaults";
  if (!f.config.file.empty()) {
    d = config::load_config(f.config.file, f.config.overrides).data;
    source = f.config.file;
  } else if (!f.config.overrides.empty()) {
    d = config::config_from_overrides(f.config.overrides).data;
    source = "defaults + --set";
  }
  data::io::LoaderSettings l;
  l.workers = f.workers >= 0 ? f.workers : d.workers;
  l.prefetch_batches = f.prefetch >= 0 ? f.prefetch : d.prefetch_batches;
  l.shards = !d.shards.empty();
  l.cache = !d.cache_dir.empty() || d.cache_ram_gb > 0;
  if (f.workers >= 0 || f.prefetch >= 0) source += " + flags";
  return {l, source};
}

// The preset named by --workload (all presets when none), with --sample-kb,
// --batch and --compute-ms overriding its figures; "custom" needs all three.
std::vector<data::io::Workload> workloads(const IobenchFlags& f) {
  std::vector<data::io::Workload> out;
  if (f.workload == "custom") {
    if (f.sample_kb <= 0 || f.batch <= 0 || f.compute_ms < 0) {
      throw UserError("iobench: --workload custom needs --sample-kb, --batch and --compute-ms");
    }
    out.push_back({"custom", 0, 0, 0});
  } else {
    for (const auto& name : data::io::workload_preset_names()) {
      if (f.workload.empty() || f.workload == name) out.push_back(*data::io::workload_preset(name));
    }
  }
  for (auto& w : out) {
    if (f.sample_kb > 0) w.sample_bytes = f.sample_kb * 1e3;
    if (f.batch > 0) w.batch = f.batch;
    if (f.compute_ms >= 0) w.compute_ms = f.compute_ms;
    if (w.compute_ms <= 0) throw UserError("iobench: --compute-ms must be > 0 for the sizing");
  }
  return out;
}

int run_probes(const IobenchFlags& f) {
  const auto ws = workloads(f);  // flag errors before seconds of measuring
  auto [loader, source] = loader_settings(f);
  data::io::IobenchReport r;
  r.survey = data::io::survey_files(f.path);
  r.loader = loader;
  r.loader_source = source;
  r.accelerators_per_node = f.per_node;
  r.probe.seconds = f.seconds;
  r.probe.drop_caches = f.drop_caches;
  data::io::ProbeOptions one = r.probe, many = r.probe;
  one.threads = 1;
  many.threads = f.threads;
  r.probe.threads = f.threads;
  auto& m = r.measured;
  if (!r.survey.small.empty()) {
    m.small_one = data::io::probe_small_files(r.survey.small, one);
    if (f.threads > 1) m.small_many = data::io::probe_small_files(r.survey.small, many);
  }
  if (!r.survey.large.empty()) {
    m.seq_one = data::io::probe_sequential(r.survey.large, one);
    if (f.threads > 1) m.seq_many = data::io::probe_sequential(r.survey.large, many);
  }
  for (const auto& w : ws) r.sizing.push_back(data::io::size_workload(w, m, r.loader, f.per_node));
  fmt::print("{}\n", f.json ? data::io::format_json(r) : data::io::format_table(r));
  return kExitOk;
}

// Raw files: every file under PATH is one sample, read whole, not decoded.
void simulate_raw_files(const IobenchFlags& f, data::io::SimulationReport& r) {
  constexpr size_t kAll = std::numeric_limits<size_t>::max();
  auto survey = data::io::survey_files(f.path, kAll, /*seed=*/1, /*max_walk=*/kAll);
  std::vector<data::io::FileEntry> files = survey.small;
  files.insert(files.end(), survey.large.begin(), survey.large.end());
  const auto loader = loader_settings(f).first;
  r.access = "raw files";
  r.options.loader.batch_size = static_cast<size_t>(r.workload.batch);
  r.options.loader.workers = static_cast<size_t>(loader.workers);
  r.options.loader.prefetch_batches = static_cast<size_t>(loader.prefetch_batches);
  if (files.size() < r.options.loader.batch_size) {
    throw UserError(fmt::format("iobench --simulate: '{}' holds {} files, fewer than one batch of {} (lower --batch)",
                                f.path, files.size(), r.options.loader.batch_size));
  }
  auto dataset = std::make_shared<data::io::RawFileDataset>(std::move(files), f.drop_caches);
  r.result = data::io::simulate_training(dataset, r.options);
}

// -c FILE: the experiment's training data exactly as `medtrain train` reads it
// (decoding included), with PATH in place of data.shards (when set) or
// data.root; the workload gives the batch size and the emulated compute.
void simulate_experiment(const IobenchFlags& f, data::io::SimulationReport& r) {
  config::Config cfg = config::load_config(f.config.file, f.config.overrides);
  (cfg.data.shards.empty() ? cfg.data.root : cfg.data.shards) = f.path;
  cfg.optim.batch_size = r.workload.batch;
  if (f.workers >= 0) cfg.data.workers = f.workers;
  if (f.prefetch >= 0) cfg.data.prefetch_batches = f.prefetch;
  r.access = cfg.data.shards.empty()           ? "DICOM tree via " + f.config.file
             : cfg.data.cache_dir.empty()      ? "shards via " + f.config.file
                                               : "shards + cache_dir via " + f.config.file;
  if (f.records_only) r.access += ", records only (not decoded)";
  const auto splits = engine::open_data(cfg, f.records_only);
  const auto order = engine::make_train_order(cfg, splits, /*rank=*/0, /*world_size=*/1);
  if (order.per_rank == 0) {
    throw UserError(fmt::format("iobench --simulate: the training split under '{}' holds fewer samples than one "
                                "batch of {} (lower --batch)", f.path, r.workload.batch));
  }
  r.options.loader = engine::loader_options(cfg, 0, /*training=*/true);
  r.options.order = order.epoch_indices;
  r.result = data::io::simulate_training(splits.train, r.options);
  if (splits.report) r.data_report = splits.report();
}

int run_simulation(const IobenchFlags& f) {
  auto ws = workloads(f);
  if (ws.size() != 1) throw UserError("iobench --simulate: name one --workload (resnet50, unet3d or custom)");
  data::io::SimulationReport r;
  r.path = f.path;
  r.workload = ws.front();
  r.drop_caches = f.drop_caches;
  r.options.compute_ms = r.workload.compute_ms;
  r.options.epochs = f.epochs;
  r.options.max_seconds = f.max_seconds;
  if (f.records_only && f.config.file.empty()) throw UserError("iobench --records-only: needs -c with data.shards");
  if (f.config.file.empty()) {
    simulate_raw_files(f, r);
  } else {
    if (f.drop_caches) throw UserError("iobench --simulate: --drop-caches applies to raw files only (no -c)");
    simulate_experiment(f, r);
  }
  fmt::print("{}\n", f.json ? data::io::format_json(r) : data::io::format_table(r));
  return kExitOk;
}

}  // namespace

Command add_iobench_command(CLI::App& app) {
  auto* cmd = app.add_subcommand("iobench", "measure the storage under PATH and size accelerators for it");
  auto f = std::make_shared<IobenchFlags>();
  cmd->add_option("PATH", f->path, "dataset folder (DICOM tree or shards) or one file")->required();
  cmd->add_option("--threads", f->threads, "threads of the parallel phases")->capture_default_str()
      ->check(CLI::Range(1, 1024));
  cmd->add_option("--seconds", f->seconds, "duration of each of the 4 phases")->capture_default_str()
      ->check(CLI::Range(0.01, 3600.0));
  cmd->add_option("--accelerators-per-node", f->per_node, "accelerators one client node must feed")
      ->capture_default_str()->check(CLI::Range(1, 1024));
  cmd->add_option("--workload", f->workload, "resnet50 | unet3d | custom (default: every preset)")
      ->check(CLI::IsMember({"resnet50", "unet3d", "custom"}));
  cmd->add_option("--sample-kb", f->sample_kb, "sample size in KB (10^3 bytes)")->check(CLI::Range(0.001, 1e9));
  cmd->add_option("--batch", f->batch, "samples per accelerator per step")->check(CLI::Range(1, 1000000));
  cmd->add_option("--compute-ms", f->compute_ms, "emulated compute per batch")->check(CLI::Range(0.0, 1e7));
  cmd->add_flag("--json", f->json, "one JSON object instead of the table");
  cmd->add_flag("--drop-caches", f->drop_caches,
                "posix_fadvise(DONTNEED) each file before re-reading it, so repeats are not served from RAM");
  cmd->add_option("-c,--config", f->config.file,
                  "experiment YAML: loader settings (data.*) and, with --simulate, its data pipeline (optional)");
  cmd->add_option("--set", f->config.overrides, "override a config key, e.g. --set data.workers=8 (repeatable)")
      ->type_name("KEY=VALUE");
  cmd->add_option("--workers", f->workers, "loader threads per rank (default: data.workers)")
      ->check(CLI::Range(0, 1024));
  cmd->add_option("--prefetch", f->prefetch, "batches read ahead (default: data.prefetch_batches)")
      ->check(CLI::Range(0, 1024));
  cmd->add_flag("--simulate", f->simulate,
                "run the real loader on PATH with compute emulated by sleeping; report the measured AU "
                "(raw files; with -c: the experiment's data pipeline, PATH replacing data.shards or data.root)");
  cmd->add_flag("--records-only", f->records_only,
                "--simulate -c with data.shards: read and verify the records (CRC32C, zstd) without decoding "
                "them into images: the storage number MLPerf Storage measures, not the CPU's preprocessing");
  cmd->add_option("--epochs", f->epochs, "--simulate: passes over PATH")->capture_default_str()
      ->check(CLI::Range(1, 1000));
  cmd->add_option("--max-seconds", f->max_seconds, "--simulate: stop after this long (0 = no limit)")
      ->check(CLI::Range(0.0, 1e6));
  return {cmd, [f] { return f->simulate ? run_simulation(*f) : run_probes(*f); }};
}

}  // namespace medtrain::cli
