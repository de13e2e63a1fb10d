#pragma once
// The command-line boundary: the only place where exceptions become one line
// on stderr and an exit code (0 ok, 2 user error, 1 runtime failure, 75 stopped
// by a signal after checkpointing).
namespace medtrain::cli {

int run_app(int argc, char** argv);

}  // namespace medtrain::cli
