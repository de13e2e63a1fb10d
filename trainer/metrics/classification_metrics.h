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

// F1 from hard predictions, as sklearn.metrics.f1_score computes it with
// zero_division=0: a label's F1 is 2 TP / (2 TP + FP + FN), 0 when that is 0/0.

// logits float [N, C], targets int64 [N]; predictions are the argmax (first on
// ties). The unweighted mean of F1 over the labels that occur in targets or in
// predictions (sklearn average="macro"). NaN when N == 0 (sklearn refuses an
// empty set). Throws std::invalid_argument as accuracy() does.
double macro_f1_multiclass(const torch::Tensor& logits, const torch::Tensor& targets);

struct MultilabelF1 { double micro = 0, macro = 0; std::vector<double> per_label; };

// Multilabel: logits float [N, L], targets [N, L] of 0/1 (any dtype; > 0.5 is
// positive, as in auroc_per_label). Predicted positive: logit > 0 (a NaN logit
// is negative). micro pools TP, FP, FN over all labels; macro is the mean of
// per_label over all L labels, a label with neither a positive target nor a
// positive prediction counting 0 (sklearn's f1_score micro / macro / None on
// indicator matrices). All NaN when N == 0. Throws std::invalid_argument for a
// wrong shape or dtype.
MultilabelF1 multilabel_f1(const torch::Tensor& logits, const torch::Tensor& targets);

}  // namespace medtrain::metrics
