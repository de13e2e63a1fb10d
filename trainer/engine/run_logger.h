#pragma once
// Everything a run reports, in one place: metrics.jsonl, TensorBoard events and
// the progress display. Only the main rank writes; other ranks get a logger
// that does nothing, so call sites need no rank checks.
#include <filesystem>
#include <map>
#include <memory>
#include <string>

#include "trainer/config/config.h"
#include "trainer/metrics/event_file_writer.h"
#include "trainer/metrics/jsonl_writer.h"
#include "trainer/metrics/progress.h"

namespace medtrain::engine {

class RunLogger {
 public:
  RunLogger(const std::filesystem::path& run_dir, const config::LogConfig& cfg, bool main_rank);
  void train_step(const metrics::StepReport& report);
  void eval(int64_t step, int64_t epoch, const std::map<std::string, double>& values);
  void message(const std::string& text);  // shown to the user, not logged as a metric
  // Something that happened at `step` (e.g. "non_finite_loss"): a metrics.jsonl
  // record {"kind": "event", "event": name, "step", "action"} and a console line.
  // `counts` (e.g. {"checkpoint_failures": 2}) join the record as fields and
  // TensorBoard scalars "events/<name>".
  void event(int64_t step, const std::string& name, const std::string& action,
             const std::map<std::string, int64_t>& counts = {});
  // TensorBoard summaries beyond scalars (log.tensorboard): images, text, PR
  // curves. No-ops on other ranks or with TensorBoard off; wants_summaries()
  // says whether building one is worth it.
  bool wants_summaries() const { return main_ && events_ != nullptr; }
  void image(int64_t step, const std::string& tag, const metrics::RasterImage& image);
  void text(int64_t step, const std::string& tag, const std::string& markdown);
  void pr_curve(int64_t step, const std::string& tag, const metrics::PrCurve& curve);
  void finish();

 private:
  bool main_;
  int64_t every_steps_;
  std::unique_ptr<metrics::JsonlWriter> jsonl_;
  std::unique_ptr<metrics::EventFileWriter> events_;
  std::unique_ptr<metrics::Progress> progress_;
};

}  // namespace medtrain::engine
