#include "data/io/au_sizing.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>

namespace medtrain::data::io {

namespace {

// Note [MLPerf Storage figures]: from mlcommons/storage,
// configs/dlio/workload/resnet50_h100.yaml (record_length_bytes 114660.07,
// batch_size 400, computation_time 0.224 s) and unet3d_h100.yaml
// (record_length_bytes 146600628, batch_size 7, computation_time 0.323 s);
// both with metric.au 0.90.
const Workload kPresets[] = {
    {"resnet50", 114660.07, 400, 224.0},
    {"unet3d", 146600628.0, 7, 323.0},
};

// Seconds one reader thread spends on one file of `sample_bytes`: a fixed
// per-file cost (requests: lookup, open, getattr, the last read) plus the
// bytes at the thread's streaming rate. The fixed cost is what the small-file
// probe measured beyond its bytes' streaming time. Without a sequential probe
// the streaming rate is the small-file byte rate itself (the whole cost then
// scales with size: pessimistic for samples larger than the probed files).
double seconds_per_file(const SmallFileResult& small, const std::optional<SequentialResult>& seq,
                        double sample_bytes) {
  const double stream = seq && seq->mb_per_s_per_thread > 0 ? seq->mb_per_s_per_thread * 1e6
                                                            : small.mb_per_s / static_cast<double>(small.threads) * 1e6;
  const double fixed = std::max(0.0, small.mean_ms / 1e3 - small.mean_file_bytes / stream);
  return fixed + sample_bytes / stream;
}

double node_bandwidth(const StorageMeasurements& m) {
  double bw = 0;
  if (m.seq_many) bw = std::max(bw, m.seq_many->mb_per_s * 1e6);
  if (m.seq_one) bw = std::max(bw, m.seq_one->mb_per_s * 1e6);
  if (m.small_many) bw = std::max(bw, m.small_many->mb_per_s * 1e6);
  return bw;
}

void finish(AccessSizing& a, const WorkloadSizing& w, int64_t workers, const std::string& rank_limit,
            const std::string& node_limit) {
  // One accelerator gets what its rank's loader reads, but never more than the
  // client delivers in all.
  const double one = std::min(a.rank_samples_per_s, a.node_samples_per_s);
  a.au_one = std::min(1.0, one * w.workload.compute_ms / 1e3 / static_cast<double>(w.workload.batch));
  if (a.rank_samples_per_s < w.need_samples_per_s) {
    a.accelerators = 0;
    a.limit = fmt::format("one rank's loader ({} threads): {}", workers, rank_limit);
  } else {
    a.accelerators = static_cast<int64_t>(std::floor(a.node_samples_per_s / w.need_samples_per_s + 1e-9));
    a.limit = node_limit;
  }
}

AccessSizing size_small_files(const WorkloadSizing& w, const StorageMeasurements& m, const LoaderSettings& l) {
  AccessSizing a;
  a.access = "small files";
  if (!m.small_one) return a;
  a.measured = true;
  const double s = w.workload.sample_bytes;
  const int64_t workers = std::max<int64_t>(l.workers, 1);
  const double t1 = seconds_per_file(*m.small_one, m.seq_one, s);
  a.rank_samples_per_s = static_cast<double>(workers) / t1;
  a.workers_needed = static_cast<int64_t>(std::ceil(w.need_samples_per_s * t1 - 1e-9));
  const SmallFileResult& many = m.small_many ? *m.small_many : *m.small_one;
  const double tn = seconds_per_file(many, m.seq_many ? m.seq_many : m.seq_one, s);
  const double by_requests = static_cast<double>(many.threads) / tn;
  const double by_bytes = node_bandwidth(m) / s;
  a.node_samples_per_s = std::min(by_requests, by_bytes);
  finish(a, w, workers, fmt::format("{:.2f} ms per {:.0f} KB file", t1 * 1e3, s / 1e3),
         by_requests <= by_bytes
             ? fmt::format("per-file latency at {} threads on this client ({:.0f} files/s)", many.threads, by_requests)
             : fmt::format("bandwidth measured on this client ({:.0f} MB/s)", node_bandwidth(m) / 1e6));
  return a;
}

AccessSizing size_shards(const WorkloadSizing& w, const StorageMeasurements& m, const LoaderSettings& l) {
  AccessSizing a;
  a.access = "shards";
  if (!m.seq_one) return a;
  a.measured = true;
  const double s = w.workload.sample_bytes;
  const int64_t workers = std::max<int64_t>(l.workers, 1);
  const double per_thread = m.seq_one->mb_per_s * 1e6;
  const double node = node_bandwidth(m);
  a.rank_samples_per_s = std::min(static_cast<double>(workers) * per_thread, node) / s;
  a.node_samples_per_s = node / s;
  a.workers_needed = static_cast<int64_t>(std::ceil(w.need_mb_per_s * 1e6 / per_thread - 1e-9));
  finish(a, w, workers, fmt::format("{:.0f} MB/s per sequential stream", per_thread / 1e6),
         fmt::format("sequential bandwidth measured on this client ({:.0f} MB/s)", node / 1e6));
  return a;
}

void advise(WorkloadSizing& w, const LoaderSettings& l, int64_t per_node) {
  const AccessSizing& sf = w.small_files;
  const AccessSizing& sh = w.shards;
  auto& out = w.advice;
  if (sf.measured && sf.workers_needed > l.workers) {
    out.push_back(fmt::format("small files: data.workers={} feeds one accelerator at {:.0f}% AU; set "
                              "data.workers >= {} (more reader threads overlap the NAS latency)",
                              l.workers, 100 * sf.au_one, sf.workers_needed));
  }
  if (sf.measured && sh.measured && sh.accelerators > sf.accelerators) {
    out.push_back(fmt::format("pack the tree into shards (medtrain pack) and set data.shards: {} -> {} accelerators "
                              "per client at >= 90% AU",
                              sf.accelerators, sh.accelerators));
  }
  if (sh.measured && sh.workers_needed > l.workers) {
    out.push_back(fmt::format("shards: set data.workers >= {} sequential streams per rank ({:.0f} MB/s needed)",
                              sh.workers_needed, w.need_mb_per_s));
  }
  const int64_t best = std::max(sf.accelerators, sh.accelerators);
  if (best < per_node) {
    out.push_back(fmt::format("this client's measured storage rate feeds {} of {} accelerators per node: with "
                              "shards, set data.cache_dir (node-local SSD copy) or data.cache_ram_gb so that epochs "
                              "2+ do not read the NAS (the first epoch stays NAS-bound), or add NAS bandwidth",
                              best, per_node));
  }
  if (l.prefetch_batches < 2) {
    out.push_back("set data.prefetch_batches >= 2 so that a slow request (see p99) does not stall a step");
  }
  if (out.empty()) {
    out.push_back(fmt::format("the current settings keep {} accelerators per node at >= 90% AU", per_node));
  }
}

}  // namespace

std::optional<Workload> workload_preset(const std::string& name) {
  for (const Workload& w : kPresets) {
    if (w.name == name) return w;
  }
  return std::nullopt;
}

std::vector<std::string> workload_preset_names() {
  std::vector<std::string> out;
  for (const Workload& w : kPresets) out.push_back(w.name);
  return out;
}

WorkloadSizing size_workload(const Workload& w, const StorageMeasurements& m, const LoaderSettings& loader,
                             int64_t accelerators_per_node) {
  WorkloadSizing out;
  out.workload = w;
  out.need_samples_per_s = kTargetAu * static_cast<double>(w.batch) / (w.compute_ms / 1e3);
  out.need_mb_per_s = out.need_samples_per_s * w.sample_bytes / 1e6;
  out.small_files = size_small_files(out, m, loader);
  out.shards = size_shards(out, m, loader);
  advise(out, loader, accelerators_per_node);
  return out;
}

}  // namespace medtrain::data::io
