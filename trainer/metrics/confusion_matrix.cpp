#include "trainer/metrics/confusion_matrix.h"

#include <stdexcept>
#include <string>
#include <utility>

namespace medtrain::metrics {

ConfusionCounts confusion_matrix(const std::vector<int64_t>& truth, const std::vector<int64_t>& predicted,
                                 int64_t num_classes) {
  if (num_classes < 1) {
    throw std::invalid_argument("confusion_matrix: num_classes must be at least 1, got " + std::to_string(num_classes));
  }
  if (truth.size() != predicted.size()) {
    throw std::invalid_argument("confusion_matrix: " + std::to_string(truth.size()) + " true labels for " +
                                std::to_string(predicted.size()) + " predictions");
  }
  const auto k = static_cast<size_t>(num_classes);
  ConfusionCounts counts(k, std::vector<int64_t>(k, 0));
  for (size_t i = 0; i < truth.size(); ++i) {
    for (const auto& [what, v] : {std::pair{"true label", truth[i]}, std::pair{"prediction", predicted[i]}}) {
      if (v < 0 || v >= num_classes) {
        throw std::invalid_argument("confusion_matrix: sample " + std::to_string(i) + ": " + what + " " +
                                    std::to_string(v) + " is outside [0, " + std::to_string(num_classes) + ")");
      }
    }
    ++counts[static_cast<size_t>(truth[i])][static_cast<size_t>(predicted[i])];
  }
  return counts;
}

}  // namespace medtrain::metrics
