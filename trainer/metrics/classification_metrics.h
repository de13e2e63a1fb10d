#pragma once
// Classification metrics over a whole evaluation set (not averaged per batch).
#include <torch/types.h>

#include <vector>

namespace medtrain::metrics {

// logits float [N, C], targets int64 [N]. Fraction of argmax == target.
double accuracy(const torch::Tensor& logits, const torch::Tensor& targets);

// Area under the ROC curve. C == 2: positive class 1, score = softmax[:,1].
// C > 2: macro average of one-vs-rest AUROC over classes present in targets.
// Ties get half credit (Mann-Whitney U). Returns NaN when only one class occurs
// (or N == 0), and when a logit is NaN (a diverged model has no ranking).
// Both throw std::invalid_argument for a wrong shape, dtype or target value.
double auroc(const torch::Tensor& logits, const torch::Tensor& targets);

// Multilabel: logits float [N, L], targets float [N, L] of 0/1. The AUROC of
// each label's score (the logit; sigmoid is monotonic) against its target,
// NaN for a label whose targets are all 0 or all 1 in this set.
std::vector<double> auroc_per_label(const torch::Tensor& logits, const torch::Tensor& targets);

}  // namespace medtrain::metrics
