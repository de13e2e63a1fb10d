#pragma once
// The rules of nasfs's fault control file (see --faults in nasfs_main.cpp).
// One rule per line, `#` starts a comment:
//     OP GLOB FAULT [after=N] [count=N] [prob=P] [for=SECONDS]
// OP is read | open | getattr | write | create | fsync | rename | any (`write`
// covers write, truncate and fallocate; `any` also matches the requests no other
// OP names: readdir, readlink, mkdir, unlink, rmdir, symlink, chmod, utimens).
// GLOB is an fnmatch(3) pattern without FNM_PATHNAME (so `*` crosses folders)
// on the path relative to the mount root, without a leading slash.
// FAULT is eio | estale | enospc (the request fails with that errno), short (a
// read returns half the bytes asked for and the open file then ends there:
// see Note [Short reads] in nasfs_ops.cpp) or hang=SECONDS (the request sleeps,
// then proceeds). Pure parsing: no I/O, no FUSE.
#include <stdexcept>
#include <string>
#include <vector>

namespace nasfs {

// The request classes a rule can name. kOther is every request no OP but `any` names.
enum class FaultOp { kRead, kOpen, kGetattr, kWrite, kCreate, kFsync, kRename, kOther, kAny };

enum class FaultKind { kEio, kEstale, kEnospc, kShort, kHang };

struct FaultRule {
  FaultOp op = FaultOp::kAny;
  std::string glob;
  FaultKind kind = FaultKind::kEio;
  double hang_s = 0;     // kHang only
  long long after = 0;   // matching requests to let through first
  long long count = -1;  // injections before the rule is spent; -1 = unlimited
  double prob = 1.0;     // chance that an eligible request is hit
  double for_s = -1;     // active for this long after the load; -1 = always
  int line = 0;          // 1-based line in the control file
  std::string fault;     // FAULT as written ("eio", "hang=1.5"): what the fault log shows
};

// A malformed control file: the 1-based line and why.
class FaultRuleError : public std::runtime_error {
 public:
  FaultRuleError(int line, const std::string& reason)
      : std::runtime_error(reason), line_(line) {}
  int line() const { return line_; }

 private:
  int line_;
};

// Parses a whole control file; throws FaultRuleError at the first bad line, so
// that a file is applied whole or not at all. Empty text = no rules.
std::vector<FaultRule> parse_fault_rules(const std::string& text);

// "read", "open", ...; kOther has no name of its own (callers log the request's).
const char* fault_op_name(FaultOp op);

}  // namespace nasfs
