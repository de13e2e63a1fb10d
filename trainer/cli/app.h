#pragma once
// The command-line boundary: the only place where exceptions become one line
// on stderr and an exit code (0 ok, 2 user error, 1 runtime failure, 75 stopped
// by a signal after checkpointing).
#include <string>

namespace medtrain::cli {

int run_app(int argc, char** argv);

// Inside a catch block: prints the exception as one line on stderr (prefixed
// with `who`, e.g. "rank 3 (node7)", when given) and returns its exit code.
int exit_code_of_current_exception(const std::string& who);

}  // namespace medtrain::cli
