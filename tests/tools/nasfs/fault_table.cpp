#include "tests/tools/nasfs/fault_table.h"

#include <fnmatch.h>

#include <utility>

namespace nasfs {

namespace {

bool op_matches(const FaultRule& r, FaultOp op) {
  if (r.kind == FaultKind::kShort) return op == FaultOp::kRead;
  return r.op == FaultOp::kAny || r.op == op;
}

}  // namespace

void FaultTable::load(std::vector<FaultRule> rules, Clock::time_point now) {
  std::lock_guard<std::mutex> lk(mu_);
  rules_.clear();
  for (auto& r : rules) rules_.push_back(Counted{std::move(r)});
  loaded_at_ = now;
}

std::optional<Injection> FaultTable::match(FaultOp op, const std::string& path, Clock::time_point now) {
  std::lock_guard<std::mutex> lk(mu_);
  const double since_load = std::chrono::duration<double>(now - loaded_at_).count();
  std::optional<Injection> hit;
  for (auto& c : rules_) {
    const FaultRule& r = c.rule;
    if (!op_matches(r, op) || fnmatch(r.glob.c_str(), path.c_str(), 0) != 0) continue;
    const long long nth = c.seen++;  // this request's 0-based index among the rule's matches
    if (hit || nth < r.after) continue;
    if (r.count >= 0 && c.injected >= r.count) continue;
    if (r.for_s >= 0 && since_load >= r.for_s) continue;
    // Draw only when the rule could fire, so that prob=1 rules cost no draws
    // and a rule's draws do not depend on the requests it cannot hit.
    if (r.prob < 1 && !(std::uniform_real_distribution<double>(0, 1)(rng_) < r.prob)) continue;
    ++c.injected;
    hit = Injection{r.kind, r.hang_s, r.fault};
  }
  return hit;
}

size_t FaultTable::size() const {
  std::lock_guard<std::mutex> lk(mu_);
  return rules_.size();
}

}  // namespace nasfs
