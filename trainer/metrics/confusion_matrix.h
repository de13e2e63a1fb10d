#pragma once
// Confusion matrices from hard predictions, as sklearn.metrics.confusion_matrix
// counts them with labels=range(num_classes): counts[t][p] is the number of
// samples of true class t predicted as p.
#include <cstdint>
#include <vector>

namespace medtrain::metrics {

using ConfusionCounts = std::vector<std::vector<int64_t>>;

// truth, predicted: class indices in [0, num_classes). Throws
// std::invalid_argument when sizes differ, num_classes < 1 or an index is
// out of range (naming the sample).
ConfusionCounts confusion_matrix(const std::vector<int64_t>& truth, const std::vector<int64_t>& predicted,
                                 int64_t num_classes);

}  // namespace medtrain::metrics
