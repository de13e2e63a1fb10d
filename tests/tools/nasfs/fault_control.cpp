#include "tests/tools/nasfs/fault_control.h"

#include <sys/stat.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <utility>

namespace nasfs {

bool FaultControl::Signature::operator==(const Signature& o) const {
  auto same = [](const timespec& a, const timespec& b) { return a.tv_sec == b.tv_sec && a.tv_nsec == b.tv_nsec; };
  return exists == o.exists && ino == o.ino && size == o.size && same(mtime, o.mtime) && same(ctime, o.ctime);
}

FaultControl::FaultControl(std::string control_path, uint64_t seed, const std::string& log_path)
    : control_path_(std::move(control_path)), table_(seed) {
  if (!log_path.empty()) {
    log_ = std::fopen(log_path.c_str(), "a");
    if (log_ == nullptr) {
      throw std::runtime_error("cannot open the fault log '" + log_path + "': " + std::strerror(errno));
    }
  }
}

FaultControl::~FaultControl() {
  if (log_ != nullptr) std::fclose(log_);
}

FaultControl::Signature FaultControl::stat_control() const {
  Signature s;
  struct stat st {};
  if (stat(control_path_.c_str(), &st) != 0) return s;
  s.exists = true;
  s.ino = st.st_ino;
  s.size = st.st_size;
  s.mtime = st.st_mtim;
  s.ctime = st.st_ctim;
  return s;
}

void FaultControl::reload(const Signature& sig) {
  std::vector<FaultRule> rules;
  if (sig.exists) {
    std::ifstream in(control_path_);
    std::ostringstream text;
    text << in.rdbuf();
    try {
      rules = parse_fault_rules(text.str());
    } catch (const FaultRuleError& e) {
      std::fprintf(stderr, "nasfs: faults %s line %d: %s\n", control_path_.c_str(), e.line(), e.what());
      std::fflush(stderr);
      rules.clear();  // the whole file is ignored: no half-applied rules
    }
  }
  table_.load(std::move(rules), FaultTable::Clock::now());
  loaded_ = sig;
  loaded_once_ = true;
}

std::optional<Injection> FaultControl::check(FaultOp op, const char* op_name, const char* path) {
  const Signature sig = stat_control();
  {
    std::lock_guard<std::mutex> lk(reload_mu_);
    if (!loaded_once_ || !(sig == loaded_)) reload(sig);
  }
  std::string rel = path != nullptr ? path : "";
  if (!rel.empty() && rel.front() == '/') rel.erase(0, 1);
  auto hit = table_.match(op, rel, FaultTable::Clock::now());
  if (hit) log(op_name, rel, hit->fault);
  return hit;
}

void FaultControl::log(const char* op_name, const std::string& path, const std::string& fault) {
  if (log_ == nullptr) return;
  const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                      std::chrono::system_clock::now().time_since_epoch())
                      .count();
  std::lock_guard<std::mutex> lk(log_mu_);
  // The mount root is "" as a path: log "." so that every line has four fields.
  std::fprintf(log_, "%lld %s %s %s\n", static_cast<long long>(ms), op_name, path.empty() ? "." : path.c_str(),
               fault.c_str());
  std::fflush(log_);
}

}  // namespace nasfs
