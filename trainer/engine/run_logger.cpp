#include "trainer/engine/run_logger.h"

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <chrono>
#include <cmath>
#include <cstdio>

namespace medtrain::engine {

namespace {
// Accelerator utilization as MLPerf Storage defines it, for this step: the
// share of the step not spent waiting for data.
double live_au(const metrics::StepReport& r) { return 1.0 - r.data_wait_fraction; }

double unix_time() {
  using namespace std::chrono;
  return duration<double>(system_clock::now().time_since_epoch()).count();
}
}  // namespace

RunLogger::RunLogger(const std::filesystem::path& run_dir, const config::LogConfig& cfg, bool main_rank)
    : main_(main_rank), every_steps_(cfg.every_steps) {
  if (!main_) return;
  jsonl_ = std::make_unique<metrics::JsonlWriter>(run_dir / "metrics.jsonl");
  if (cfg.tensorboard) events_ = std::make_unique<metrics::EventFileWriter>(run_dir / "tensorboard");
  progress_ = std::make_unique<metrics::Progress>(metrics::progress_style_from(cfg.progress, stdout),
                                                  cfg.every_steps, stdout);
}

void RunLogger::train_step(const metrics::StepReport& r) {
  if (!main_) return;
  progress_->step(r);
  const bool due = r.step % every_steps_ == 0 || r.step == r.total_steps || r.step == 1;
  if (!due) return;
  nlohmann::json rec = {{"kind", "train"}, {"time", unix_time()}, {"step", r.step}, {"epoch", r.epoch},
                        {"loss", r.loss}, {"lr", r.lr}, {"samples_per_s", r.samples_per_s},
                        {"data_wait_fraction", r.data_wait_fraction}, {"au", live_au(r)},
                        {"read_retries", r.read_retries}, {"read_skipped", r.read_skipped}};
  for (const auto& [phase, seconds] : r.phase_s) rec["time/" + phase] = seconds;
  jsonl_->write(rec);
  if (events_) {
    events_->add_scalar("train/loss", r.loss, r.step);
    events_->add_scalar("train/lr", r.lr, r.step);
    events_->add_scalar("train/samples_per_s", r.samples_per_s, r.step);
    events_->add_scalar("train/data_wait_fraction", r.data_wait_fraction, r.step);
    events_->add_scalar("train/au", live_au(r), r.step);
    events_->add_scalar("data/read_retries", static_cast<double>(r.read_retries), r.step);
    events_->add_scalar("data/read_skipped", static_cast<double>(r.read_skipped), r.step);
    for (const auto& [phase, seconds] : r.phase_s) events_->add_scalar("time/" + phase, seconds, r.step);
  }
}

void RunLogger::eval(int64_t step, int64_t epoch, const std::map<std::string, double>& values) {
  if (!main_) return;
  nlohmann::json rec = {{"kind", "eval"}, {"time", unix_time()}, {"step", step}, {"epoch", epoch}};
  std::string text = fmt::format("eval @ step {}:", step);
  for (const auto& [k, v] : values) {
    rec[k] = std::isfinite(v) ? nlohmann::json(v) : nlohmann::json(nullptr);
    text += fmt::format(" {} {:.4f}", k, v);
    if (events_) events_->add_scalar(k, v, step);
  }
  jsonl_->write(rec);
  if (events_) events_->flush();
  progress_->line(text);
}

void RunLogger::message(const std::string& text) {
  if (main_) progress_->line(text);
}

void RunLogger::event(int64_t step, const std::string& name, const std::string& action,
                      const std::map<std::string, int64_t>& counts) {
  if (!main_) return;
  nlohmann::json rec = {{"kind", "event"}, {"time", unix_time()}, {"step", step}, {"event", name}, {"action", action}};
  for (const auto& [key, count] : counts) {
    rec[key] = count;
    if (events_) events_->add_scalar("events/" + key, static_cast<double>(count), step);
  }
  jsonl_->write(rec);
  progress_->line(fmt::format("step {}: {}: {}", step, name, action));
}

void RunLogger::image(int64_t step, const std::string& tag, const metrics::RasterImage& image) {
  if (wants_summaries()) events_->add_image(tag, image, step);
}

void RunLogger::text(int64_t step, const std::string& tag, const std::string& markdown) {
  if (wants_summaries()) events_->add_text(tag, markdown, step);
}

void RunLogger::pr_curve(int64_t step, const std::string& tag, const metrics::PrCurve& curve) {
  if (wants_summaries()) events_->add_pr_curve(tag, curve, step);
}

void RunLogger::finish() {
  if (!main_) return;
  progress_->finish();
  if (events_) events_->flush();
}

}  // namespace medtrain::engine
