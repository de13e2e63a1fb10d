#pragma once
// Classification metrics over a whole evaluation set (not averaged per batch).
#include <torch/types.h>

namespace medtrain::metrics {

// logits float [N, C], targets int64 [N]. Fraction of argmax == target.
double accuracy(const torch::Tensor& logits, const torch::Tensor& targets);

// Area under the ROC curve. C == 2: positive class 1, score = softmax[:,1].
// C > 2: macro average of one-vs-rest AUROC over classes present in targets.
// Ties get half credit (Mann-Whitney U). Returns NaN when only one class occurs
// (or N == 0), and when a logit is NaN (a diverged model has no ranking).
// Both throw std::invalid_argument for a wrong shape, dtype or target value.
double auroc(const torch::Tensor& logits, const torch::Tensor& targets);

}  // namespace medtrain::metrics
