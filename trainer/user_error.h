#pragma once
// Errors the user can fix (bad config, bad flag, missing file, bad checkpoint).
// main() prints the message as one line on stderr and exits with kExitUserError.
// Anything else that escapes is a runtime failure (exit 1).
#include <stdexcept>
#include <string>

namespace medtrain {

constexpr int kExitOk = 0;
constexpr int kExitRuntimeError = 1;
constexpr int kExitUserError = 2;
// Training stopped by SIGINT/SIGTERM/SIGUSR1 after writing a checkpoint; the run
// can be resumed with --resume auto (sysexits' EX_TEMPFAIL: "try again later").
constexpr int kExitPreempted = 75;

class UserError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

}  // namespace medtrain
