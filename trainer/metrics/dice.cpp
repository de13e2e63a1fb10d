#include "trainer/metrics/dice.h"

#include <ATen/ATen.h>

#include <cmath>
#include <limits>
#include <sstream>
#include <stdexcept>

namespace medtrain::metrics {

void DiceCounts::add(const torch::Tensor& logits, const torch::Tensor& targets) {
  if (logits.dim() < 3 || targets.dim() != logits.dim() - 1 || targets.size(0) != logits.size(0) ||
      targets.sizes().slice(1) != logits.sizes().slice(2)) {
    std::ostringstream m;
    m << "dice: logits [N, K, *spatial] and targets [N, *spatial] do not match: " << logits.sizes() << " and "
      << targets.sizes();
    throw std::invalid_argument(m.str());
  }
  const int64_t k = logits.size(1);
  const auto pred = logits.argmax(1).reshape({-1}).to(at::kCPU);
  const auto truth_flat = targets.reshape({-1}).to(at::kCPU, at::kLong);
  // Pixel counts per class via bincount: one pass, no one-hot tensor.
  auto count = [k](const at::Tensor& labels) {
    return at::bincount(labels, {}, k).to(at::kDouble).narrow(0, 0, k);
  };
  const auto hit = pred.eq(truth_flat);
  auto inter = count(pred.masked_select(hit));
  auto p = count(pred), t = count(truth_flat);
  if (!intersection.defined()) {
    intersection = inter, predicted = p, truth = t;
  } else {
    intersection += inter, predicted += p, truth += t;
  }
}

torch::Tensor DiceCounts::packed() const { return at::cat({intersection, predicted, truth}); }

DiceCounts DiceCounts::unpack(const torch::Tensor& packed) {
  const auto parts = packed.to(at::kCPU, at::kDouble).chunk(3);
  return {parts[0].clone(), parts[1].clone(), parts[2].clone()};
}

std::vector<double> dice_per_class(const DiceCounts& c) {
  std::vector<double> out;
  if (!c.intersection.defined()) return out;
  for (int64_t i = 0; i < c.intersection.size(0); ++i) {
    const double denom = c.predicted[i].item<double>() + c.truth[i].item<double>();
    out.push_back(denom > 0 ? 2.0 * c.intersection[i].item<double>() / denom
                            : std::numeric_limits<double>::quiet_NaN());
  }
  return out;
}

double mean_foreground_dice(const std::vector<double>& per_class) {
  double sum = 0;
  int count = 0;
  for (size_t i = per_class.size() > 1 ? 1 : 0; i < per_class.size(); ++i) {
    if (std::isfinite(per_class[i])) sum += per_class[i], ++count;
  }
  return count > 0 ? sum / count : std::numeric_limits<double>::quiet_NaN();
}

}  // namespace medtrain::metrics
