#pragma once
// Precision-recall curves in the format of TensorBoard's pr_curves plugin
// (tensorboard/plugins/pr_curve/summary.py, `pb`): num_thresholds thresholds
// i / (num_thresholds - 1); a score s counts as positive at threshold i when
// floor(s * (num_thresholds - 1)) >= i (the plugin's bucketing, in float32);
// a float32 tensor [6, num_thresholds] of rows TP, FP, TN, FN, precision,
// recall, with precision = TP / max(1e-7, TP + FP) and recall =
// TP / max(1e-7, TP + FN), as the plugin computes them.
#include <cstdint>
#include <vector>

namespace medtrain::metrics {

struct PrCurve {
  int64_t num_thresholds = 0;
  std::vector<float> data;  // 6 * num_thresholds, row-major: the rows above
};

// scores in [0, 1] (probabilities), positive: whether each sample's label is
// this class. A score outside [0, 1] or NaN is left out of every count, as
// the plugin's histogram leaves it out (Note [pr_curve as the plugin computes
// it] in pr_curve.cpp). Throws std::invalid_argument when sizes differ or
// num_thresholds < 2.
PrCurve pr_curve(const std::vector<float>& scores, const std::vector<bool>& positive, int64_t num_thresholds = 201);

}  // namespace medtrain::metrics
