#pragma once
// SIGINT, SIGTERM and SIGUSR1 (Slurm's --signal) ask training to stop: the
// handler only sets a flag; the loop finishes the current step, writes a
// checkpoint and exits with kExitPreempted. A second SIGINT while stopping
// restores the default action so a user can still force-quit.
namespace medtrain::engine {

void install_stop_handlers();
bool stop_requested();
int stop_signal_number();  // the signal that asked, 0 if none
void reset_stop_request();  // tests

}  // namespace medtrain::engine
