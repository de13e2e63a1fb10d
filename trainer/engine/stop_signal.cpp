#include "trainer/engine/stop_signal.h"

#include <csignal>
#include <initializer_list>

namespace medtrain::engine {

namespace {
volatile std::sig_atomic_t g_stop_signal = 0;

extern "C" void on_stop_signal(int sig) {
  if (g_stop_signal != 0 && sig == SIGINT) std::signal(SIGINT, SIG_DFL);
  g_stop_signal = sig;
}
}  // namespace

void install_stop_handlers() {
  for (int sig : {SIGINT, SIGTERM, SIGUSR1}) std::signal(sig, on_stop_signal);
}

bool stop_requested() { return g_stop_signal != 0; }
int stop_signal_number() { return g_stop_signal; }
void reset_stop_request() { g_stop_signal = 0; }

}  // namespace medtrain::engine
