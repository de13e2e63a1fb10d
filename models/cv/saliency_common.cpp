#include "models/cv/saliency_common.h"

#include <torch/types.h>

#include <sstream>
#include <stdexcept>

namespace medtrain::models::cv {

void check_saliency_input(const std::string& what, const torch::Tensor& x) {
  if (!x.defined() || x.dim() < 3 || x.dim() > 5 || x.size(0) < 1 || !x.is_floating_point()) {
    std::ostringstream s;
    s << what << ": input must be a floating batch [N, C, *spatial] with 1 to 3 spatial dimensions, got ";
    if (x.defined()) {
      s << x.sizes() << " " << x.scalar_type();
    } else {
      s << "no tensor";
    }
    throw std::invalid_argument(s.str());
  }
}

torch::Tensor target_classes(const std::string& what, const torch::Tensor& logits,
                             std::optional<int64_t> class_index) {
  if (logits.dim() != 2) {
    std::ostringstream s;
    s << what << ": the model gives " << logits.sizes() << ", not class logits [N, classes]";
    throw std::invalid_argument(s.str());
  }
  const int64_t classes = logits.size(1);
  if (!class_index) return logits.argmax(1);
  if (*class_index < 0 || *class_index >= classes) {
    throw std::invalid_argument(what + ": class index " + std::to_string(*class_index) + " is out of range for " +
                                std::to_string(classes) + " classes (0 to " + std::to_string(classes - 1) + ")");
  }
  return torch::full({logits.size(0)}, *class_index, logits.options().dtype(torch::kLong));
}

torch::Tensor scale_per_sample(const torch::Tensor& m) {
  const torch::Tensor flat = m.flatten(1);
  const torch::Tensor lo = flat.amin(1, /*keepdim=*/true);
  const torch::Tensor range = flat.amax(1, /*keepdim=*/true) - lo;
  const torch::Tensor scaled = torch::where(range > 0, (flat - lo) / range, torch::zeros_like(flat));
  return scaled.view_as(m);
}

}  // namespace medtrain::models::cv
