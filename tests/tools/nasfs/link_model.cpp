#include "tests/tools/nasfs/link_model.h"

#include <algorithm>
#include <thread>

namespace nasfs {

LinkModel::LinkModel(double latency_ms, double bandwidth_mbps)
    : latency_(std::chrono::nanoseconds(static_cast<long long>(latency_ms * 1e6))),
      ns_per_byte_(bandwidth_mbps > 0 ? 1e3 / bandwidth_mbps : 0.0),
      link_free_(Clock::now()) {}

void LinkModel::request() const {
  if (latency_.count() > 0) std::this_thread::sleep_for(latency_);
}

void LinkModel::transfer(size_t bytes) {
  if (ns_per_byte_ <= 0 || bytes == 0) return;
  const auto cost = std::chrono::nanoseconds(static_cast<long long>(bytes * ns_per_byte_));
  Clock::time_point done;
  {
    std::lock_guard<std::mutex> lk(mu_);
    // An idle link does not bank credit: a burst after a pause still pays.
    link_free_ = std::max(link_free_, Clock::now()) + cost;
    done = link_free_;
  }
  std::this_thread::sleep_until(done);
}

}  // namespace nasfs
