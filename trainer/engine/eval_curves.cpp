// Note [Evaluation curves]: a multiclass model's curves are one-vs-rest on
// its softmax probabilities (class k positive, every other class negative),
// a multilabel model's are per label on sigmoid probabilities. Confusion
// matrices count hard predictions as the metrics do: argmax for multiclass
// (val/accuracy), logit > 0 for multilabel (val/f1_*). The ROC picture of a
// two-class model shows class 1 only: the curve of class 0 is the same line
// (its score is 1 - p1, its positives the other samples), and class 1 is the
// one val/auroc scores.
#include "trainer/engine/eval_curves.h"

#include <fmt/format.h>
#include <torch/torch.h>

#include <cmath>
#include <cstddef>
#include <exception>
#include <nlohmann/json.hpp>

#include "trainer/metrics/chart.h"
#include "trainer/metrics/confusion_matrix.h"
#include "trainer/metrics/pr_curve.h"
#include "trainer/metrics/roc_curve.h"

namespace medtrain::engine {
namespace {

constexpr size_t kLegendEntries = 12;  // more classes are drawn, not named

// Every class's (label's) score and truth per sample.
struct ClassScores {
  std::vector<std::string> names;
  std::vector<std::vector<float>> scores;
  std::vector<std::vector<bool>> positive;
};

std::string name_of(const std::vector<std::string>& label_names, int64_t i) {
  const auto k = static_cast<size_t>(i);
  return k < label_names.size() ? label_names[k] : "class" + std::to_string(i);  // as evaluator.cpp names them
}

bool has_curves(Task task, const EvalOutputs& out) {
  return (task == Task::kMulticlass || task == Task::kMultilabel) && out.logits.defined() &&
         out.targets.defined() && out.logits.dim() == 2 && out.logits.size(0) > 0;
}

bool finite(const EvalOutputs& out) { return torch::isfinite(out.logits).all().item<bool>(); }

ClassScores class_scores(Task task, const EvalOutputs& out, const std::vector<std::string>& label_names) {
  const auto logits = out.logits.to(torch::kFloat).cpu();
  const auto probs = (task == Task::kMulticlass ? torch::softmax(logits, 1) : torch::sigmoid(logits)).contiguous();
  const auto targets = out.targets.cpu();
  const int64_t n = probs.size(0), k = probs.size(1);
  ClassScores cs;
  const auto p = probs.accessor<float, 2>();
  for (int64_t c = 0; c < k; ++c) {
    const auto truth = (task == Task::kMulticlass ? targets.eq(c) : targets.select(1, c).gt(0.5)).to(torch::kBool);
    const auto t = truth.accessor<bool, 1>();
    std::vector<float> s(static_cast<size_t>(n));
    std::vector<bool> pos(static_cast<size_t>(n));
    for (int64_t i = 0; i < n; ++i) s[i] = p[i][c], pos[i] = t[i];
    cs.names.push_back(name_of(label_names, c));
    cs.scores.push_back(std::move(s));
    cs.positive.push_back(std::move(pos));
  }
  return cs;
}

std::vector<int64_t> to_vector(const torch::Tensor& t) {
  const auto c = t.to(torch::kLong).cpu().contiguous();
  return {c.data_ptr<int64_t>(), c.data_ptr<int64_t>() + c.numel()};
}

// One matrix for multiclass; per label [[TN, FP], [FN, TP]] for multilabel.
struct Confusion {
  std::string name;  // the label (multilabel), empty for the multiclass matrix
  std::vector<std::string> labels;
  metrics::ConfusionCounts counts;
};

std::vector<Confusion> confusions(Task task, const EvalOutputs& out, const std::vector<std::string>& label_names) {
  const int64_t k = out.logits.size(1);
  if (task == Task::kMulticlass) {
    std::vector<std::string> names;
    for (int64_t c = 0; c < k; ++c) names.push_back(name_of(label_names, c));
    return {{"", names, metrics::confusion_matrix(to_vector(out.targets), to_vector(out.logits.argmax(1)), k)}};
  }
  std::vector<Confusion> per_label;
  for (int64_t c = 0; c < k; ++c) {
    const auto truth = to_vector(out.targets.select(1, c).gt(0.5));
    const auto predicted = to_vector(out.logits.select(1, c).gt(0));  // a NaN logit is negative, as in multilabel_f1
    per_label.push_back(
        {name_of(label_names, c), {"absent", "present"}, metrics::confusion_matrix(truth, predicted, 2)});
  }
  return per_label;
}

std::string auc_text(double auc) { return std::isfinite(auc) ? fmt::format("AUC {:.3f}", auc) : "AUC n/a"; }

metrics::RasterImage roc_chart(int64_t step, const ClassScores& cs) {
  std::vector<metrics::ChartSeries> series;
  const size_t first = cs.names.size() == 2 ? 1 : 0;  // Note [Evaluation curves]
  for (size_t c = first; c < cs.names.size(); ++c) {
    const auto roc = metrics::roc_curve(cs.scores[c], cs.positive[c]);
    const std::string name = series.size() < kLegendEntries ? cs.names[c] + " (" + auc_text(roc.auc) + ")" : "";
    series.push_back({name, roc.fpr, roc.tpr});
  }
  metrics::ChartSpec spec{fmt::format("validation ROC, step {}", step), "false positive rate", "true positive rate",
                          640, 480, true};
  return metrics::render_line_chart(spec, series);
}

void log_all(RunLogger& log, int64_t step, Task task, const EvalOutputs& out,
             const std::vector<std::string>& label_names) {
  const bool curves = finite(out);
  if (!curves) log.message(fmt::format("step {}: validation logits are not all finite: no PR or ROC curves", step));
  if (curves) {
    const auto cs = class_scores(task, out, label_names);
    for (size_t c = 0; c < cs.names.size(); ++c) {
      log.pr_curve(step, "val/pr_curve/" + cs.names[c], metrics::pr_curve(cs.scores[c], cs.positive[c]));
    }
    log.image(step, "val/roc", roc_chart(step, cs));
  }
  for (const auto& m : confusions(task, out, label_names)) {
    const std::string title = m.name.empty() ? fmt::format("validation confusion matrix, step {}", step)
                                             : fmt::format("{}, step {}", m.name, step);
    log.image(step, m.name.empty() ? "val/confusion_matrix" : "val/confusion_matrix/" + m.name,
              metrics::render_confusion_matrix(m.counts, m.labels, title));
  }
}

// JSON has no inf or NaN: null, in the object itself (not only when dumped).
nlohmann::json number(double v) { return std::isfinite(v) ? nlohmann::json(v) : nlohmann::json(); }

nlohmann::json numbers(const std::vector<double>& vs) {
  auto out = nlohmann::json::array();
  for (double v : vs) out.push_back(number(v));
  return out;
}

nlohmann::json curve_json(const ClassScores& cs) {
  nlohmann::json roc = nlohmann::json::object(), pr = nlohmann::json::object();
  for (size_t c = 0; c < cs.names.size(); ++c) {
    const auto r = metrics::roc_curve(cs.scores[c], cs.positive[c]);
    // +inf (the first threshold) and NaN rates become null.
    roc[cs.names[c]] = {{"fpr", numbers(r.fpr)},
                        {"tpr", numbers(r.tpr)},
                        {"thresholds", numbers(r.thresholds)},
                        {"auc", number(r.auc)}};
    const auto p = metrics::pr_curve(cs.scores[c], cs.positive[c]);
    const auto n = static_cast<std::ptrdiff_t>(p.num_thresholds);
    std::vector<double> thresholds;
    for (std::ptrdiff_t i = 0; i < n; ++i) thresholds.push_back(static_cast<double>(i) / static_cast<double>(n - 1));
    pr[cs.names[c]] = {{"precision", std::vector<float>(p.data.begin() + 4 * n, p.data.begin() + 5 * n)},
                       {"recall", std::vector<float>(p.data.begin() + 5 * n, p.data.end())},
                       {"thresholds", thresholds}};
  }
  return {{"roc", roc}, {"pr", pr}};
}

}  // namespace

void log_eval_curves(RunLogger& log, int64_t step, Task task, const EvalOutputs& outputs,
                     const std::vector<std::string>& label_names) {
  if (!log.wants_summaries() || !has_curves(task, outputs)) return;
  try {
    log_all(log, step, task, outputs, label_names);
  } catch (const std::exception& e) {
    // A picture that cannot be drawn is no reason to stop training.
    log.message(fmt::format("warning: step {}: validation curves not logged: {}", step, e.what()));
  }
}

nlohmann::json eval_curves_json(Task task, const EvalOutputs& outputs, const std::vector<std::string>& label_names) {
  if (!has_curves(task, outputs)) return nlohmann::json::object();
  nlohmann::json out = finite(outputs) ? curve_json(class_scores(task, outputs, label_names))
                                       : nlohmann::json{{"curves_skipped", "the logits are not all finite"}};
  const auto ms = confusions(task, outputs, label_names);
  if (task == Task::kMulticlass) {
    out["confusion_matrix"] = {{"labels", ms[0].labels}, {"counts", ms[0].counts}};
  } else {
    out["confusion_matrix"] = nlohmann::json::object();
    for (const auto& m : ms) out["confusion_matrix"][m.name] = {{"labels", m.labels}, {"counts", m.counts}};
  }
  return out;
}

}  // namespace medtrain::engine
