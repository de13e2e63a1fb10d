#include "trainer/export/infer_progress.h"

#include <fmt/format.h>

#include <cstdio>
#include <stdexcept>

#include "trainer/user_error.h"

namespace medtrain::exporter {
namespace {

constexpr double kPlainEverySeconds = 10;

metrics::ProgressStyle style_of(const std::string& name) {
  try {
    return metrics::progress_style_from(name, stderr);
  } catch (const std::invalid_argument&) {
    throw UserError("--progress: expected auto, bar, plain or none, got \"" + name + "\"");
  }
}

}  // namespace

InferProgress::InferProgress(const std::string& style, std::string unit, int64_t total, std::string counter)
    : style_(style_of(style)),
      progress_(style_, 1, stderr),
      unit_(std::move(unit)),
      counter_(counter.empty() ? unit_ : std::move(counter)),
      total_(total) {}

void InferProgress::done(int64_t count, int64_t total) {
  if (total >= 0) total_ = total;
  if (style_ == metrics::ProgressStyle::kNone) return;
  const auto now = std::chrono::steady_clock::now();
  const double elapsed = std::chrono::duration<double>(now - start_).count();
  if (style_ == metrics::ProgressStyle::kPlain) {
    const bool due = std::chrono::duration<double>(now - last_line_).count() >= kPlainEverySeconds;
    if (!due && !(printed_ && count == total_)) return;
    last_line_ = now;
    printed_ = true;
  }
  metrics::StepReport r;
  r.counter = counter_;
  r.step = count;
  r.total_steps = total_;
  r.stats = fmt::format("{:.2f} {}/s", elapsed > 0 ? static_cast<double>(count) / elapsed : 0.0, unit_);
  progress_.step(r);
}

void InferProgress::finish() { progress_.finish(); }

}  // namespace medtrain::exporter
