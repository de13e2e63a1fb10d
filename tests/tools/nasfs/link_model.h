#pragma once
// The cost model of an NFS NAS seen from one client: every request pays a
// round-trip latency, and all bytes share one link of fixed bandwidth.
// Thread-safe: FUSE serves requests on many threads at once, and like on NFS,
// their latencies overlap while their bytes queue on the shared link.
#include <chrono>
#include <cstddef>
#include <mutex>

namespace nasfs {

class LinkModel {
 public:
  // latency_ms >= 0; bandwidth_mbps in MB/s (10^6 bytes/s), 0 = unlimited.
  LinkModel(double latency_ms, double bandwidth_mbps);

  // Sleeps for one request's round trip.
  void request() const;
  // Sleeps until `bytes` have crossed the link. A token bucket with no burst:
  // each caller reserves the next free slice of link time, so the total time to
  // move X bytes is >= X / bandwidth however many readers share it.
  void transfer(size_t bytes);

 private:
  using Clock = std::chrono::steady_clock;
  std::chrono::nanoseconds latency_;
  double ns_per_byte_;  // 0 = unlimited
  std::mutex mu_;
  Clock::time_point link_free_;  // when the link finishes the bytes already reserved
};

}  // namespace nasfs
