#include "trainer/metrics/pr_curve.h"

#include <algorithm>
#include <cmath>
#include <stdexcept>
#include <string>

namespace medtrain::metrics {

// Note [pr_curve as the plugin computes it]: summary.pb takes
// floor(predictions * (num_thresholds - 1)) in the predictions' float32, then
// np.histogram over [0, num_thresholds - 1] in num_thresholds bins, which puts
// integer bucket i in bin i and drops buckets outside that range (a score
// below 0, above 1, or NaN). TP and FP at threshold i are the counts in
// buckets >= i; TN = FP[0] - FP, FN = TP[0] - TP; precision and recall divide
// in float64 and are stored as float32.
PrCurve pr_curve(const std::vector<float>& scores, const std::vector<bool>& positive, int64_t num_thresholds) {
  if (num_thresholds < 2) {
    throw std::invalid_argument("pr_curve: num_thresholds must be at least 2, got " + std::to_string(num_thresholds));
  }
  if (scores.size() != positive.size()) {
    throw std::invalid_argument("pr_curve: " + std::to_string(scores.size()) + " scores for " +
                                std::to_string(positive.size()) + " labels");
  }
  const auto n = static_cast<size_t>(num_thresholds);
  std::vector<double> tp(n, 0.0), fp(n, 0.0);
  const float scale = static_cast<float>(num_thresholds - 1);
  for (size_t i = 0; i < scores.size(); ++i) {
    const float bucket = std::floor(scores[i] * scale);  // float32, as numpy multiplies a float32 array
    if (!(bucket >= 0.0f && bucket <= scale)) continue;  // outside the histogram's range, or NaN
    (positive[i] ? tp : fp)[static_cast<size_t>(bucket)] += 1.0;
  }
  for (size_t i = n - 1; i-- > 0;) tp[i] += tp[i + 1], fp[i] += fp[i + 1];  // reverse cumulative sums
  PrCurve out;
  out.num_thresholds = num_thresholds;
  out.data.resize(6 * n);
  constexpr double kMinimumCount = 1e-7;
  for (size_t i = 0; i < n; ++i) {
    const double tn = fp[0] - fp[i], fn = tp[0] - tp[i];
    out.data[0 * n + i] = static_cast<float>(tp[i]);
    out.data[1 * n + i] = static_cast<float>(fp[i]);
    out.data[2 * n + i] = static_cast<float>(tn);
    out.data[3 * n + i] = static_cast<float>(fn);
    out.data[4 * n + i] = static_cast<float>(tp[i] / std::max(kMinimumCount, tp[i] + fp[i]));
    out.data[5 * n + i] = static_cast<float>(tp[i] / std::max(kMinimumCount, tp[i] + fn));
  }
  return out;
}

}  // namespace medtrain::metrics
