#pragma once
// nasfs's fault control: watches the control file (--faults), reloads it when
// it changes, asks the FaultTable about each request and appends every
// injected fault to the fault log (--fault-log). Thread-safe.
#include <sys/types.h>

#include <cstdint>
#include <cstdio>
#include <ctime>
#include <mutex>
#include <optional>
#include <string>

#include "tests/tools/nasfs/fault_table.h"

namespace nasfs {

class FaultControl {
 public:
  // control_path: the rules (missing or empty = no faults). log_path: "" = no
  // log; else opened for appending now (throws std::runtime_error if it cannot be).
  FaultControl(std::string control_path, uint64_t seed, const std::string& log_path);
  ~FaultControl();
  FaultControl(const FaultControl&) = delete;
  FaultControl& operator=(const FaultControl&) = delete;

  // The fault to inject into one request, if any. path: as FUSE gives it
  // (leading '/'); op_name: what the log calls the request (its OP, or the
  // request's own name for FaultOp::kOther). Reloads the control file first if
  // its inode, size, mtime or ctime changed (so a same-size rewrite in place
  // within one timestamp tick would go unseen: replace it by a rename). A
  // malformed file is reported once on stderr ("nasfs: faults FILE line N:
  // reason") and applies no rules at all.
  std::optional<Injection> check(FaultOp op, const char* op_name, const char* path);

 private:
  struct Signature {
    bool exists = false;
    ino_t ino = 0;
    off_t size = 0;
    timespec mtime{};
    timespec ctime{};
    bool operator==(const Signature& o) const;
  };
  Signature stat_control() const;
  void reload(const Signature& sig);
  void log(const char* op_name, const std::string& path, const std::string& fault);

  std::string control_path_;
  FaultTable table_;
  std::mutex reload_mu_;  // one reload at a time; counters reset once per change
  Signature loaded_;
  bool loaded_once_ = false;
  std::mutex log_mu_;
  std::FILE* log_ = nullptr;
};

}  // namespace nasfs
