// The sizing model of docs/iobench.md on hand-made measurements, with the
// expected numbers worked out by hand from that model.
#include <gtest/gtest.h>

#include <cmath>

#include "data/io/au_sizing.h"

namespace medtrain::data::io {
namespace {

SmallFileResult small(size_t threads, double mean_ms, double file_bytes) {
  SmallFileResult s;
  s.threads = threads;
  s.mean_ms = s.p50_ms = s.p99_ms = mean_ms;
  s.mean_file_bytes = file_bytes;
  s.mb_per_s = static_cast<double>(threads) * file_bytes / (mean_ms / 1e3) / 1e6;
  s.iops = static_cast<double>(threads) / (mean_ms / 1e3);
  s.ops = 100;
  return s;
}

SequentialResult seq(size_t threads, double total_mb_per_s) {
  SequentialResult q;
  q.threads = threads;
  q.mb_per_s = total_mb_per_s;
  q.mb_per_s_per_thread = total_mb_per_s / static_cast<double>(threads);
  return q;
}

StorageMeasurements measured() {
  StorageMeasurements m;
  m.small_one = small(1, 10.0, 100e3);   // 10 ms per 100 KB file
  m.small_many = small(8, 20.0, 100e3);  // 20 ms each with 8 in flight
  m.seq_one = seq(1, 100.0);             // one stream: 100 MB/s
  m.seq_many = seq(4, 200.0);            // the client: 200 MB/s
  return m;
}

const Workload kCustom{"custom", 200e3, 10, 100.0};  // 200 KB, batch 10, 100 ms

TEST(AuSizing, PresetsAreMlperfStorageH100Figures) {
  const auto r = workload_preset("resnet50");
  ASSERT_TRUE(r);
  EXPECT_DOUBLE_EQ(r->sample_bytes, 114660.07);
  EXPECT_EQ(r->batch, 400);
  EXPECT_DOUBLE_EQ(r->compute_ms, 224.0);
  const auto u = workload_preset("unet3d");
  ASSERT_TRUE(u);
  EXPECT_DOUBLE_EQ(u->sample_bytes, 146600628.0);
  EXPECT_EQ(u->batch, 7);
  EXPECT_DOUBLE_EQ(u->compute_ms, 323.0);
  EXPECT_FALSE(workload_preset("bert"));
}

TEST(AuSizing, SmallFilesFedByEnoughWorkers) {
  LoaderSettings l;
  l.workers = 4;
  const WorkloadSizing w = size_workload(kCustom, measured(), l, 8);
  EXPECT_DOUBLE_EQ(w.need_samples_per_s, 90.0);  // 0.9 * 10 / 0.1 s
  EXPECT_DOUBLE_EQ(w.need_mb_per_s, 18.0);
  // One thread: 10 ms - 100 KB at 100 MB/s (1 ms) = 9 ms fixed; + 200 KB (2 ms) = 11 ms per sample.
  EXPECT_NEAR(w.small_files.rank_samples_per_s, 4 / 0.011, 1e-6);
  EXPECT_EQ(w.small_files.workers_needed, 1);  // ceil(90 * 0.011)
  // 8 threads: 20 ms - 2 ms (50 MB/s per stream) = 18 ms + 4 ms = 22 ms: 8 / 0.022 files/s,
  // under the 200 MB/s byte limit (1000 samples/s).
  EXPECT_NEAR(w.small_files.node_samples_per_s, 8 / 0.022, 1e-6);
  EXPECT_EQ(w.small_files.accelerators, 4);  // floor(363.6 / 90)
  EXPECT_DOUBLE_EQ(w.small_files.au_one, 1.0);
  // Shards: min(4 x 100, 200) MB/s / 200 KB = 1000 samples/s per rank and per client.
  EXPECT_NEAR(w.shards.rank_samples_per_s, 1000.0, 1e-6);
  EXPECT_EQ(w.shards.accelerators, 11);
  EXPECT_EQ(w.shards.workers_needed, 1);  // 18 MB/s from a 100 MB/s stream
}

TEST(AuSizing, StarvedRankGetsZeroAcceleratorsAndAdvice) {
  LoaderSettings l;
  l.workers = 1;
  l.prefetch_batches = 1;
  const Workload heavy{"heavy", 200e3, 20, 90.0};  // needs 200 samples/s
  const WorkloadSizing w = size_workload(heavy, measured(), l, 8);
  EXPECT_DOUBLE_EQ(w.need_samples_per_s, 200.0);
  EXPECT_EQ(w.small_files.accelerators, 0);
  EXPECT_EQ(w.small_files.workers_needed, 3);  // ceil(200 * 0.011)
  EXPECT_NEAR(w.small_files.au_one, (1 / 0.011) * 0.090 / 20, 1e-9);
  auto has = [&](const std::string& needle) {
    for (const auto& a : w.advice) {
      if (a.find(needle) != std::string::npos) return true;
    }
    return false;
  };
  EXPECT_TRUE(has("data.workers >= 3")) << w.advice.front();
  EXPECT_TRUE(has("medtrain pack"));
  EXPECT_TRUE(has("data.cache_dir"));
  EXPECT_TRUE(has("prefetch_batches >= 2"));
}

TEST(AuSizing, ClientLimitCapsOneAcceleratorToo) {
  LoaderSettings l;
  l.workers = 64;  // the rank could read 64 / 10 ms = 6400 samples/s ...
  StorageMeasurements m = measured();
  m.seq_one.reset();
  m.seq_many.reset();  // ... but the client delivers 8 / 20 ms = 400 files/s
  const Workload w{"w", 100e3, 50, 100.0};  // needs 450 samples/s
  const WorkloadSizing s = size_workload(w, m, l, 8);
  EXPECT_EQ(s.small_files.accelerators, 0);
  EXPECT_NEAR(s.small_files.au_one, 400 * 0.1 / 50, 1e-9);  // what the client delivers, not the rank
  for (const auto& a : s.advice) EXPECT_EQ(a.find("data.workers >="), std::string::npos) << a;
}

TEST(AuSizing, WithoutLargeFilesShardsAreNotSized) {
  StorageMeasurements m;
  m.small_one = small(1, 2.0, 100e3);
  const WorkloadSizing w = size_workload(kCustom, m, LoaderSettings{}, 8);
  EXPECT_TRUE(w.small_files.measured);
  EXPECT_FALSE(w.shards.measured);
  // No stream rate known: the whole 2 ms scales with size, 4 ms per 200 KB sample.
  EXPECT_NEAR(w.small_files.rank_samples_per_s, 2 / 0.004, 1e-6);
}

}  // namespace
}  // namespace medtrain::data::io
