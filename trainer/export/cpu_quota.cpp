#include "trainer/export/cpu_quota.h"

#include <ATen/Parallel.h>
#include <sched.h>

#include <algorithm>
#include <cmath>
#include <fstream>
#include <string>
#include <thread>

namespace medtrain::exporter {

namespace {

int affinity_cores() {
  cpu_set_t set;
  CPU_ZERO(&set);
  if (sched_getaffinity(0, sizeof(set), &set) == 0) return std::max(1, CPU_COUNT(&set));
  return std::max(1u, std::thread::hardware_concurrency());
}

// This process's cgroup v2 folder ("0::/path" in /proc/self/cgroup); inside a
// container with its own cgroup namespace that is the root.
std::string cgroup_v2_dir() {
  std::ifstream in("/proc/self/cgroup");
  for (std::string line; std::getline(in, line);) {
    if (line.rfind("0::", 0) == 0) return "/sys/fs/cgroup" + line.substr(3);
  }
  return "/sys/fs/cgroup";
}

// The quota in CPUs, or 0 when there is none (or it cannot be read).
double quota_cpus() {
  std::ifstream v2(cgroup_v2_dir() + "/cpu.max");  // "max 100000" or "200000 100000"
  std::string quota;
  double period = 0;
  if (v2 >> quota >> period) return quota == "max" || period <= 0 ? 0 : std::stod(quota) / period;
  std::ifstream q("/sys/fs/cgroup/cpu/cpu.cfs_quota_us"), p("/sys/fs/cgroup/cpu/cpu.cfs_period_us");
  double v1_quota = -1;
  if (q >> v1_quota && p >> period && v1_quota > 0 && period > 0) return v1_quota / period;
  return 0;
}

}  // namespace

int cpu_quota_threads() {
  const int cores = affinity_cores();
  const double quota = quota_cpus();
  return quota > 0 ? std::clamp(static_cast<int>(std::ceil(quota)), 1, cores) : cores;
}

int cap_threads_to_cpu_quota() {
  const int limit = cpu_quota_threads();
  if (at::get_num_threads() > limit) at::set_num_threads(limit);
  return at::get_num_threads();
}

}  // namespace medtrain::exporter
