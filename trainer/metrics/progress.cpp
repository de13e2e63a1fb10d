#include "trainer/metrics/progress.h"

#include <unistd.h>

#include <stdexcept>

#include "trainer/metrics/progress_format.h"

namespace medtrain::metrics {
namespace {

// Carriage return, then the line, then "erase to end of line" so a shorter
// redraw leaves no tail of the previous one. Only used on terminals.
constexpr const char* kEraseToEol = "\033[K";

void put(std::FILE* stream, const std::string& text) {
  // Progress output is best effort: a closed or full stdout must not stop training.
  std::fwrite(text.data(), 1, text.size(), stream);
  std::fflush(stream);
}

}  // namespace

ProgressStyle progress_style_from(const std::string& name, std::FILE* stream) {
  if (name == "auto") return isatty(fileno(stream)) ? ProgressStyle::kBar : ProgressStyle::kPlain;
  if (name == "bar") return ProgressStyle::kBar;
  if (name == "plain") return ProgressStyle::kPlain;
  if (name == "none") return ProgressStyle::kNone;
  throw std::invalid_argument("log.progress: unknown progress style \"" + name +
                              "\"; expected auto, bar, plain or none");
}

Progress::Progress(ProgressStyle style, int64_t every_steps, std::FILE* stream)
    : style_(style), every_steps_(every_steps), stream_(stream) {
  if (every_steps < 1) {
    throw std::invalid_argument("log.every_steps: expected a positive number of steps, got " +
                                std::to_string(every_steps));
  }
  if (stream == nullptr) throw std::invalid_argument("Progress: stream must not be null");
}

void Progress::step(const StepReport& r) {
  if (first_step_ < 0) {  // the rate is measured from here, excluding time before
    first_step_ = r.step;
    start_ = std::chrono::steady_clock::now();
  }
  switch (style_) {
    case ProgressStyle::kNone:
      return;
    case ProgressStyle::kPlain: {
      const bool last = r.total_steps > 0 && r.step == r.total_steps;
      if (r.step % every_steps_ == 0 || last) {
        put(stream_, detail::format_plain_line(r, eta(r)) + "\n");
      }
      return;
    }
    case ProgressStyle::kBar:
      put(stream_, "\r" + detail::format_bar_line(r, eta(r)) + kEraseToEol);
      bar_drawn_ = true;
      return;
  }
}

void Progress::line(const std::string& text) {
  if (bar_drawn_) {
    put(stream_, std::string("\r") + kEraseToEol);  // the bar comes back on the next step
    bar_drawn_ = false;
  }
  put(stream_, text + "\n");
}

void Progress::finish() {
  if (bar_drawn_) {
    put(stream_, "\n");  // keep the final bar on screen
    bar_drawn_ = false;
  }
  std::fflush(stream_);
}

std::string Progress::eta(const StepReport& r) const {
  if (r.total_steps <= 0) return "";
  const double elapsed =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
  return detail::format_duration(
      detail::eta_seconds(r.step - first_step_, elapsed, r.total_steps - r.step));
}

}  // namespace medtrain::metrics
