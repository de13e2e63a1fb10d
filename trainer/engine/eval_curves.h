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

// Logs val/pr_curve/<label>, val/roc (image) and val/confusion_matrix (image;
// multiclass, and per label 2x2 for multilabel) at `step`. Does nothing for
// other tasks or empty outputs.
void log_eval_curves(RunLogger& log, int64_t step, Task task, const EvalOutputs& outputs,
                     const std::vector<std::string>& label_names);

// {"confusion_matrix": {"labels": [...], "counts": [[...]]},
//  "roc": {"<label>": {"fpr": [...], "tpr": [...], "thresholds": [...]}},
//  "pr": {"<label>": {"precision": [...], "recall": [...], "thresholds": [...]}}}
// (multilabel: a 2x2 confusion matrix per label). Empty object for other tasks.
nlohmann::json eval_curves_json(Task task, const EvalOutputs& outputs, const std::vector<std::string>& label_names);

}  // namespace medtrain::engine
