#pragma once
// The loaded fault rules and their counters: decides, request by request,
// whether a fault is injected. Thread-safe: FUSE serves requests on many
// threads, and a rule's after=/count= must count each request exactly once.
#include <chrono>
#include <cstdint>
#include <mutex>
#include <optional>
#include <random>
#include <string>
#include <vector>

#include "tests/tools/nasfs/fault_rules.h"

namespace nasfs {

// What to do to one request.
struct Injection {
  FaultKind kind;
  double hang_s;      // kHang only
  std::string fault;  // the rule's FAULT as written, for the fault log
};

class FaultTable {
 public:
  using Clock = std::chrono::steady_clock;

  // seed: the PRNG behind prob= (--fault-seed); seeded once, so draws are
  // deterministic for a deterministic order of requests.
  explicit FaultTable(uint64_t seed) : rng_(seed) {}

  // Replaces the rules; every counter and for= window starts again at `now`.
  void load(std::vector<FaultRule> rules, Clock::time_point now);

  // Every rule whose OP and GLOB match counts the request (after= and count=
  // are per rule); the first rule in file order that is eligible (past after=,
  // not spent, inside for=) and wins its prob= draw injects. A `short` rule
  // matches reads only, even as `any`. path: relative to the mount root.
  std::optional<Injection> match(FaultOp op, const std::string& path, Clock::time_point now);

  size_t size() const;

 private:
  struct Counted {
    FaultRule rule;
    long long seen = 0;      // matching requests so far
    long long injected = 0;  // faults injected so far
  };
  mutable std::mutex mu_;
  std::vector<Counted> rules_;
  Clock::time_point loaded_at_{};
  std::mt19937_64 rng_;
};

}  // namespace nasfs
