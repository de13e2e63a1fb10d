#pragma once
// Curves and tables from an evaluation's outputs (classification tasks):
// TensorBoard PR curves per class/label (the pr_curves plugin), the ROC curve
// and the confusion matrix as images, and the same numbers as JSON for
// `eval --json`.
#include <nlohmann/json_fwd.hpp>

#include <cstdint>
#include <string>
#include <vector>

#include "trainer/engine/evaluator.h"
#include "trainer/engine/run_logger.h"
#include "trainer/engine/task.h"

namespace medtrain::engine {

// Logs, at `step`: the PR curve of each class (multiclass, one-vs-rest on the
// softmax) or label (multilabel, sigmoid) as val/pr_curve/<label> (the
// pr_curves plugin, 201 thresholds); the ROC curves of all classes in one
// chart val/roc (legend: label and AUC); the confusion matrix as the image
// val/confusion_matrix (multiclass, K x K on the argmax) or one 2x2 image per
// label val/confusion_matrix/<label> (multilabel, logit > 0). Labels without
// a name in label_names are "class<i>". See Note [Evaluation curves]. With
// non-finite logits only the confusion matrices (and a message); a failure
// to draw is a warning message, never an exception. Does nothing for other
// tasks, empty outputs, or a logger without TensorBoard.
void log_eval_curves(RunLogger& log, int64_t step, Task task, const EvalOutputs& outputs,
                     const std::vector<std::string>& label_names);

// The same numbers for `eval --json`:
//  {"confusion_matrix": {"labels": [...], "counts": [[...]]},   counts[true][predicted]
//   "roc": {"<label>": {"fpr": [...], "tpr": [...], "thresholds": [...], "auc": x}},
//   "pr": {"<label>": {"precision": [...], "recall": [...], "thresholds": [...]}}}
// ROC: sklearn.metrics.roc_curve with drop_intermediate (its default); the
// first threshold is +inf, written null, as are rates and AUC undefined for a
// label with one class only. PR: the 201 points of the TensorBoard curve,
// thresholds i / 200. Multilabel: "confusion_matrix" is {"<label>": {"labels":
// ["absent", "present"], "counts": [[TN, FP], [FN, TP]]}}. With non-finite
// logits "roc" and "pr" are left out and "curves_skipped" says why. Empty
// object for other tasks.
nlohmann::json eval_curves_json(Task task, const EvalOutputs& outputs, const std::vector<std::string>& label_names);

}  // namespace medtrain::engine
