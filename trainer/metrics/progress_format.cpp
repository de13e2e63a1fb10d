#include "trainer/metrics/progress_format.h"

#include <algorithm>
#include <cmath>
#include <cstdarg>
#include <cstdio>
#include <limits>

namespace medtrain::metrics::detail {
namespace {

// Note [No fmt in metrics]
// These files format with printf and streams rather than fmt: the progress
// line is specified in printf terms (%.4g, %.2e), and it keeps metrics out of
// the torch-fmt vs system-fmt question (Note [fmt] in cmake/MedtrainDeps.cmake).
std::string printf_string(const char* format, ...) __attribute__((format(printf, 1, 2)));
std::string printf_string(const char* format, ...) {
  std::va_list args;
  va_start(args, format);
  std::va_list copy;
  va_copy(copy, args);
  const int size = std::vsnprintf(nullptr, 0, format, copy);
  va_end(copy);
  std::string out(size > 0 ? static_cast<size_t>(size) : 0, '\0');
  if (size > 0) std::vsnprintf(out.data(), out.size() + 1, format, args);
  va_end(args);
  return out;
}

std::string with_eta(std::string text, const std::string& eta) {
  if (!eta.empty()) text += " eta " + eta;
  return text;
}

}  // namespace

std::string format_duration(double seconds) {
  if (!std::isfinite(seconds) || seconds < 0) return "--:--";
  const auto total = static_cast<int64_t>(std::llround(seconds));
  const int64_t h = total / 3600;
  const int64_t m = (total / 60) % 60;
  const int64_t s = total % 60;
  if (h > 0) return printf_string("%lld:%02lld:%02lld", static_cast<long long>(h),
                                   static_cast<long long>(m), static_cast<long long>(s));
  return printf_string("%lld:%02lld", static_cast<long long>(m), static_cast<long long>(s));
}

double eta_seconds(int64_t steps_done, double elapsed_s, int64_t steps_left) {
  if (steps_done <= 0 || !(elapsed_s > 0)) return std::numeric_limits<double>::quiet_NaN();
  if (steps_left <= 0) return 0.0;
  return static_cast<double>(steps_left) * elapsed_s / static_cast<double>(steps_done);
}

std::string format_stats(const StepReport& r) {
  if (!r.stats.empty()) return r.stats;
  // loss: 4 significant digits; lr: 3 in e-notation (schedules span decades).
  return printf_string("epoch %lld loss %.4g lr %.2e %.1f samples/s data-wait %.0f%%",
                       static_cast<long long>(r.epoch), r.loss, r.lr, r.samples_per_s,
                       100.0 * r.data_wait_fraction);
}

std::string format_plain_line(const StepReport& r, const std::string& eta) {
  if (r.total_steps <= 0) return r.counter + " " + std::to_string(r.step) + " " + format_stats(r);
  return with_eta(r.counter + " " + std::to_string(r.step) + "/" + std::to_string(r.total_steps) + " " +
                      format_stats(r),
                  eta);
}

std::string format_bar_line(const StepReport& r, const std::string& eta) {
  if (r.total_steps <= 0) return format_plain_line(r, "");
  const double done = std::clamp(static_cast<double>(r.step) / r.total_steps, 0.0, 1.0);
  const int filled = static_cast<int>(done * kBarWidth);
  const std::string bar = std::string(filled, '#') + std::string(kBarWidth - filled, '.');
  const std::string counter = r.counter == "step" ? "" : r.counter + " ";  // training bars stay as they were
  return with_eta("[" + bar + "] " + counter + std::to_string(r.step) + "/" + std::to_string(r.total_steps) +
                      " " + format_stats(r),
                  eta);
}

}  // namespace medtrain::metrics::detail
