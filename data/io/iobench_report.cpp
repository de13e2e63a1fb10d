#include "data/io/iobench_report.h"

#include <fmt/format.h>

#include <algorithm>
#include <optional>

#include <nlohmann/json.hpp>

namespace medtrain::data::io {

namespace {

using nlohmann::json;

std::string percent(const std::optional<double>& f) {
  return f ? fmt::format("{:.0f}%", 100 * *f) : std::string("unknown");
}

json opt_json(const std::optional<double>& f) { return f ? json(*f) : json(); }

json small_json(const SmallFileResult& s) {
  return {{"threads", s.threads},       {"files", s.ops},          {"bytes", s.bytes},
          {"seconds", s.seconds},       {"iops", s.iops},          {"mb_per_s", s.mb_per_s},
          {"mean_ms", s.mean_ms},       {"p50_ms", s.p50_ms},      {"p99_ms", s.p99_ms},
          {"max_ms", s.max_ms},         {"mean_file_bytes", s.mean_file_bytes},
          {"reread", s.reread},         {"cached_fraction_before", opt_json(s.cached_before)}};
}

json seq_json(const SequentialResult& s) {
  return {{"threads", s.threads},   {"files", s.files},     {"bytes", s.bytes},
          {"seconds", s.seconds},   {"mb_per_s", s.mb_per_s}, {"mb_per_s_per_thread", s.mb_per_s_per_thread},
          {"request_bytes", s.request_bytes}, {"reread", s.reread},
          {"cached_fraction_before", opt_json(s.cached_before)}};
}

json access_json(const AccessSizing& a) {
  if (!a.measured) return json();
  return {{"rank_samples_per_s", a.rank_samples_per_s}, {"node_samples_per_s", a.node_samples_per_s},
          {"au_one_accelerator", a.au_one},             {"accelerators", a.accelerators},
          {"workers_needed", a.workers_needed},         {"limit", a.limit}};
}

void append_small(std::string& out, const char* label, const std::optional<SmallFileResult>& s) {
  if (!s) return;
  out += fmt::format("  {:<22} {:>7} {:>9.0f} {:>9.1f} {:>8.3f} {:>8.3f} {:>9}\n", label, s->threads, s->iops,
                     s->mb_per_s, s->p50_ms, s->p99_ms, percent(s->cached_before));
}

void append_seq(std::string& out, const char* label, const std::optional<SequentialResult>& s) {
  if (!s) return;
  out += fmt::format("  {:<22} {:>7} {:>9.0f} {:>12.0f} {:>9}\n", label, s->threads, s->mb_per_s,
                     s->mb_per_s_per_thread, percent(s->cached_before));
}

std::string size_text(double bytes) {
  return bytes >= 1e7 ? fmt::format("{:.1f} MB", bytes / 1e6) : fmt::format("{:.0f} KB", bytes / 1e3);
}

std::string access_cell(const AccessSizing& a) {
  if (!a.measured) return "not measured (no such files under PATH)";
  return fmt::format("AU(1) {:>3.0f}%  accelerators {:>4}  (workers needed {})", 100 * a.au_one, a.accelerators,
                     a.workers_needed);
}

}  // namespace

std::vector<std::string> cache_notes(const IobenchReport& r) {
  std::vector<std::string> out;
  const auto& m = r.measured;
  if (r.survey.walk_stopped) {
    out.push_back(fmt::format("the walk of PATH stopped after {} files: files were sampled from that first part "
                              "of the tree, and the counts are lower bounds",
                              r.survey.small_total + r.survey.large.size()));
  }
  if (!r.survey.network_fs) {
    out.push_back(fmt::format("PATH is on {} (not a network file system): these numbers describe this machine's "
                              "storage, not a NAS",
                              r.survey.fs_type));
  }
  // One note per kind of doubt, naming the worst phase.
  std::optional<double> small_cached;
  bool small_reread = false;
  for (const auto& s : {m.small_one, m.small_many}) {
    if (s && s->cached_before) small_cached = std::max(small_cached.value_or(0.0), *s->cached_before);
    small_reread = small_reread || (s && s->reread);
  }
  if (small_cached && *small_cached >= 0.5) {
    out.push_back(fmt::format("up to {} of the small files were in the page cache before a phase: latency and "
                              "files/s then measure RAM; rerun with --drop-caches or on a cold client",
                              percent(small_cached)));
  }
  if (small_reread && !r.probe.drop_caches) {
    out.push_back(fmt::format("the small-file phases read their {} files more than once; repeats may have come "
                              "from the page cache (use --drop-caches, fewer --seconds or a larger PATH)",
                              r.survey.small.size()));
  }
  if (m.small_one && m.small_one->p50_ms < 0.05) {
    out.push_back(fmt::format("small-file p50 {:.3f} ms is below any network round trip: the data were likely "
                              "served from local memory",
                              m.small_one->p50_ms));
  }
  std::optional<double> seq_cached;
  bool seq_reread = false;
  for (const auto& s : {m.seq_one, m.seq_many}) {
    if (s && s->cached_before) seq_cached = std::max(seq_cached.value_or(0.0), *s->cached_before);
    seq_reread = seq_reread || (s && s->reread);
  }
  if (seq_cached && *seq_cached >= 0.5) {
    out.push_back(fmt::format("up to {} of the large files were in the page cache before a sequential phase",
                              percent(seq_cached)));
  }
  if (seq_reread && !r.probe.drop_caches) {
    out.push_back("the sequential phases read the same bytes more than once (large files too small for "
                  "--seconds): repeats may be cached");
  }
  if (m.seq_one && m.seq_one->mb_per_s > 3000) {
    out.push_back(fmt::format("one stream read {:.0f} MB/s, more than a 25 GbE NAS link carries (~3000 MB/s): "
                              "likely page cache or local storage",
                              m.seq_one->mb_per_s));
  }
  if (r.probe.drop_caches) {
    out.push_back("--drop-caches: cached pages were dropped with posix_fadvise(DONTNEED) before each re-read "
                  "(honored for clean pages by local file systems and NFS; a FUSE direct_io mount caches nothing)");
  }
  return out;
}

std::string format_table(const IobenchReport& r) {
  const FileSurvey& s = r.survey;
  uint64_t large_bytes = 0;
  for (const auto& f : s.large) large_bytes += f.bytes;
  std::string out = fmt::format(
      "iobench {} ({}{}): {} small files ({} sampled), {} large files ({:.0f} MB); {:.1f} s per phase, "
      "page cache {}\n\n",
      s.root, s.fs_type, s.network_fs ? ", network" : ", local", s.small_total, s.small.size(), s.large.size(),
      static_cast<double>(large_bytes) / 1e6, r.probe.seconds, r.probe.drop_caches ? "dropped" : "kept");
  out += fmt::format("  {:<22} {:>7} {:>9} {:>9} {:>8} {:>8} {:>9}\n", "small files", "threads", "files/s", "MB/s",
                     "p50 ms", "p99 ms", "cached");
  append_small(out, "open+read+close", r.measured.small_one);
  append_small(out, "", r.measured.small_many);
  out += fmt::format("  {:<22} {:>7} {:>9} {:>12} {:>9}\n", "sequential (4 MiB)", "threads", "MB/s", "MB/s/thread",
                     "cached");
  append_seq(out, "pread + readahead", r.measured.seq_one);
  append_seq(out, "", r.measured.seq_many);
  if (!r.measured.seq_one) out += "  (no file >= 4 MiB under PATH: no sequential measurement, no shard sizing)\n";
  out += fmt::format("\nloader: data.workers={} data.prefetch_batches={} ({}); accelerators per node {}; target AU "
                     "{:.0f}%\n",
                     r.loader.workers, r.loader.prefetch_batches, r.loader_source, r.accelerators_per_node,
                     100 * kTargetAu);
  for (const WorkloadSizing& w : r.sizing) {
    out += fmt::format("\n{}: {} samples, batch {}, {:.0f} ms compute -> each accelerator needs {:.1f} "
                       "samples/s ({:.0f} MB/s)\n",
                       w.workload.name, size_text(w.workload.sample_bytes), w.workload.batch, w.workload.compute_ms,
                       w.need_samples_per_s, w.need_mb_per_s);
    out += fmt::format("  {:<12} {}\n", "small files", access_cell(w.small_files));
    out += fmt::format("  {:<12} {}\n", "shards", access_cell(w.shards));
    for (const auto& a : w.advice) out += "  - " + a + "\n";
  }
  const auto notes = cache_notes(r);
  if (!notes.empty()) out += "\nnotes:\n";
  for (const auto& n : notes) out += "  ! " + n + "\n";
  return out;
}

std::string format_json(const IobenchReport& r) {
  json j;
  j["path"] = r.survey.root;
  j["fs_type"] = r.survey.fs_type;
  j["network_fs"] = r.survey.network_fs;
  j["small_files_total"] = r.survey.small_total;
  j["small_files_sampled"] = r.survey.small.size();
  j["large_files"] = r.survey.large.size();
  j["walk_stopped"] = r.survey.walk_stopped;
  j["seconds_per_phase"] = r.probe.seconds;
  j["drop_caches"] = r.probe.drop_caches;
  const auto& m = r.measured;
  j["small_files"] = {{"single", m.small_one ? small_json(*m.small_one) : json()},
                      {"parallel", m.small_many ? small_json(*m.small_many) : json()}};
  j["sequential"] = {{"single", m.seq_one ? seq_json(*m.seq_one) : json()},
                     {"parallel", m.seq_many ? seq_json(*m.seq_many) : json()}};
  j["loader"] = {{"workers", r.loader.workers}, {"prefetch_batches", r.loader.prefetch_batches},
                 {"source", r.loader_source}};
  j["accelerators_per_node"] = r.accelerators_per_node;
  j["target_au"] = kTargetAu;
  j["workloads"] = json::array();
  for (const WorkloadSizing& w : r.sizing) {
    j["workloads"].push_back({{"name", w.workload.name},
                              {"sample_bytes", w.workload.sample_bytes},
                              {"batch", w.workload.batch},
                              {"compute_ms", w.workload.compute_ms},
                              {"need_samples_per_s", w.need_samples_per_s},
                              {"need_mb_per_s", w.need_mb_per_s},
                              {"small_files", access_json(w.small_files)},
                              {"shards", access_json(w.shards)},
                              {"advice", w.advice}});
  }
  j["notes"] = cache_notes(r);
  return j.dump(2);
}

std::string format_table(const SimulationReport& r) {
  const SimulationResult& x = r.result;
  std::string out = fmt::format(
      "simulate {} ({}): {} ({} samples), batch {}, compute {:.0f} ms, data.workers={} "
      "prefetch_batches={}{}\n",
      r.path, r.access, r.workload.name, size_text(r.workload.sample_bytes), r.options.loader.batch_size,
      r.options.compute_ms, r.options.loader.workers, r.options.loader.prefetch_batches,
      r.drop_caches ? ", page cache dropped after each read" : "");
  out += fmt::format("  {} batches, {} samples in {:.2f} s: {:.0f} samples/s; compute {:.2f} s, waiting for data "
                     "{:.2f} s ({:.2f} s of it for the first batch of each epoch)\n",
                     x.batches, x.samples, x.wall_s, x.samples_per_s, x.compute_s, x.wait_s, x.first_wait_s);
  out += fmt::format("  AU {:.1f}% ({})", 100 * x.au, x.au >= kTargetAu ? "meets the 90% target" : "below 90%");
  for (size_t e = 0; e < x.epoch_au.size(); ++e) {
    out += fmt::format("{} epoch {} {:.1f}%", e ? "," : ";", e + 1, 100 * x.epoch_au[e]);
  }
  out += "\n";
  if (!r.data_report.empty()) out += "  " + r.data_report + "\n";
  return out;
}

std::string format_json(const SimulationReport& r) {
  const SimulationResult& x = r.result;
  json j = {{"path", r.path},           {"access", r.access},           {"workload", r.workload.name},
            {"sample_bytes", r.workload.sample_bytes}, {"batch", r.options.loader.batch_size},
            {"compute_ms", r.options.compute_ms},      {"workers", r.options.loader.workers},
            {"prefetch_batches", r.options.loader.prefetch_batches}, {"drop_caches", r.drop_caches},
            {"batches", x.batches},     {"samples", x.samples},         {"wall_s", x.wall_s},
            {"compute_s", x.compute_s}, {"wait_s", x.wait_s},           {"first_wait_s", x.first_wait_s},
            {"au", x.au},
            {"samples_per_s", x.samples_per_s}, {"epoch_au", x.epoch_au}, {"target_au", kTargetAu}};
  if (!r.data_report.empty()) j["data_report"] = r.data_report;
  return j.dump(2);
}

}  // namespace medtrain::data::io
