#include "trainer/metrics/roc_curve.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>
#include <stdexcept>
#include <string>

namespace medtrain::metrics {
namespace {

// Cumulative TP and FP counts at each distinct score, highest score first
// (sklearn's confusion_matrix_at_thresholds).
struct Counts {
  std::vector<double> tps, fps, thresholds;
};

Counts counts_at_thresholds(const std::vector<float>& scores, const std::vector<bool>& positive) {
  std::vector<size_t> order(scores.size());
  std::iota(order.begin(), order.end(), size_t{0});
  std::stable_sort(order.begin(), order.end(), [&](size_t a, size_t b) { return scores[a] > scores[b]; });
  Counts c;
  double tp = 0;
  for (size_t k = 0; k < order.size(); ++k) {
    tp += positive[order[k]] ? 1.0 : 0.0;
    // A threshold closes where the next score differs (or at the end).
    if (k + 1 < order.size() && scores[order[k + 1]] == scores[order[k]]) continue;
    c.tps.push_back(tp);
    c.fps.push_back(static_cast<double>(k + 1) - tp);
    c.thresholds.push_back(scores[order[k]]);
  }
  return c;
}

// Keeps the first and last point and every point where the curve bends (a
// non-zero second difference of fps or tps), as sklearn's drop_intermediate.
void drop_collinear(Counts& c) {
  const size_t n = c.fps.size();
  if (n <= 2) return;
  Counts kept;
  for (size_t i = 0; i < n; ++i) {
    const bool bend = i == 0 || i + 1 == n || c.fps[i + 1] - 2 * c.fps[i] + c.fps[i - 1] != 0 ||
                      c.tps[i + 1] - 2 * c.tps[i] + c.tps[i - 1] != 0;
    if (!bend) continue;
    kept.tps.push_back(c.tps[i]);
    kept.fps.push_back(c.fps[i]);
    kept.thresholds.push_back(c.thresholds[i]);
  }
  c = std::move(kept);
}

std::vector<double> rates(const std::vector<double>& counts) {
  const double total = counts.back();
  std::vector<double> out(counts.size(), std::numeric_limits<double>::quiet_NaN());
  if (total <= 0) return out;  // no sample of this kind: the rate is undefined
  for (size_t i = 0; i < counts.size(); ++i) out[i] = counts[i] / total;
  return out;
}

}  // namespace

RocCurve roc_curve(const std::vector<float>& scores, const std::vector<bool>& positive, bool drop_intermediate) {
  if (scores.size() != positive.size()) {
    throw std::invalid_argument("roc_curve: " + std::to_string(scores.size()) + " scores for " +
                                std::to_string(positive.size()) + " labels");
  }
  for (size_t i = 0; i < scores.size(); ++i) {
    if (std::isnan(scores[i])) throw std::invalid_argument("roc_curve: score " + std::to_string(i) + " is NaN");
  }
  Counts c = counts_at_thresholds(scores, positive);
  if (drop_intermediate) drop_collinear(c);
  // The point (0, 0) at threshold +inf: nothing called positive.
  c.tps.insert(c.tps.begin(), 0.0);
  c.fps.insert(c.fps.begin(), 0.0);
  c.thresholds.insert(c.thresholds.begin(), std::numeric_limits<double>::infinity());
  RocCurve out{rates(c.fps), rates(c.tps), std::move(c.thresholds), 0.0};
  for (size_t i = 1; i < out.fpr.size(); ++i) {
    out.auc += (out.fpr[i] - out.fpr[i - 1]) * (out.tpr[i] + out.tpr[i - 1]) / 2;
  }
  if (out.fpr.size() < 2) out.auc = std::numeric_limits<double>::quiet_NaN();
  return out;
}

}  // namespace medtrain::metrics
