#pragma once
// Receiver operating characteristic of one binary score, with
// sklearn.metrics.roc_curve's semantics (scikit-learn >= 1.3): thresholds are
// the distinct scores in decreasing order, preceded by +inf (no sample
// called positive: the point (0, 0)); at threshold t a sample is positive when
// score >= t. With drop_intermediate (sklearn's default) the points that lie
// on a straight line between their neighbours are dropped (the ROC curve and
// its area are unchanged).
#include <vector>

namespace medtrain::metrics {

struct RocCurve {
  std::vector<double> fpr, tpr, thresholds;  // same length, >= 2 when there is a sample
  // Trapezoidal area under (fpr, tpr), as sklearn.metrics.auc computes it:
  // equal to roc_auc_score. NaN when the samples hold only one class.
  double auc = 0;
};

// positive: whether each sample belongs to the class the score is for. With
// no positive sample TPR is NaN throughout, with no negative FPR is (sklearn
// warns and does the same). Throws std::invalid_argument when sizes differ
// or a score is NaN (sklearn refuses NaN input too).
RocCurve roc_curve(const std::vector<float>& scores, const std::vector<bool>& positive, bool drop_intermediate = true);

}  // namespace medtrain::metrics
