#pragma once
// How many CPU threads this process can really use: the cores it may run on
// (sched affinity), capped by the container's CPU quota (cgroup v2 `cpu.max`,
// or v1 `cpu.cfs_quota_us` / `cpu.cfs_period_us`), rounded up. LibTorch sizes
// its intra-op pool by the core count alone, so under a 2-CPU quota on a
// 64-core host it runs 64 threads that take turns: slower than 2.

namespace medtrain::exporter {

int cpu_quota_threads();

// Lowers LibTorch's intra-op threads to cpu_quota_threads() when they exceed
// it; never raises them (an explicit smaller --threads or OMP_NUM_THREADS
// stands). Returns the thread count in effect.
int cap_threads_to_cpu_quota();

}  // namespace medtrain::exporter
